"""The ``nvcf-mirror`` command line, one module per command group (as crane's ``cmd/<verb>.go``).

Nothing here knows how to copy: commands wire manifest → versions → plan → copy → result and
print; ``root.run`` turns errors into one line and an exit code, which ``root.main`` exits with.
"""

from provider_helper.cli.root import (
    cli,
    main,
)  # each command's module is imported when it is used (root.COMMAND_MODULES)

__all__ = ["cli", "main"]
