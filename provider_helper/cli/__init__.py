"""The ``nvcf-mirror`` command line, one module per command group (as crane's ``cmd/<verb>.go``).

Nothing here knows how to copy: commands parse their flags, call a use case (provider_helper.usecases)
and print; ``root.run`` turns errors into one line and an exit code, which ``root.main`` exits with.
"""

# each command's module is imported when it is used (root.COMMAND_MODULES)
from provider_helper.cli.root import cli, main

__all__ = ["cli", "main"]
