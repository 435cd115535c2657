"""The ``nvcf-mirror`` command line, one module per command group (as crane's ``cmd/<verb>.go``).

Nothing here knows how to copy: commands wire manifest → versions → plan → copy → result and
print; ``root.main`` turns errors into one line and an exit code.
"""

from provider_helper.cli import ecr, inspect, manifest, mirror, resources  # noqa: F401  (each registers its commands)
from provider_helper.cli.root import cli, main

__all__ = ["cli", "main"]
