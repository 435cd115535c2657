"""The ``nvcf-mirror`` group, logging, and ``run``: errors become one line and an exit code
(``exits``: 0 all done, 1 some artifacts failed, 2 bad input, 130 interrupted)."""

from __future__ import annotations

import importlib
import logging

import click

from provider_helper import __version__, envvars, wording
from provider_helper.errors import SettingError
from provider_helper.exits import INTERRUPTED, ExitCode, outcome_of
from provider_helper.quickexit import exit_now
from provider_helper.redact import shown

log = logging.getLogger("nvcf-mirror")

# Which module of provider_helper.cli defines each command: it is imported when the command is
# used, so that ``--version``, or one command, does not pay for every library the others need.
COMMAND_MODULES = {
    "plan": "mirror",
    "mirror": "mirror",
    "load": "bundles",
    "save": "bundles",
    "verify": "verify",
    "values": "mirror",
    "outdated": "inspect",
    "doctor": "inspect",
    "ecr": "ecr",
    "manifest": "manifest",
    "resources": "resources",
    "prune": "prune",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            # registers its commands on ``cli``
            importlib.import_module(f"provider_helper.cli.{COMMAND_MODULES[cmd_name]}")
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("-v", "--verbose", is_flag=True, help="Log every request decision (never credentials).")
@click.option("-q", "--quiet", is_flag=True, help="Errors and the summary only.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per event on standard error, no progress bars.",
)
@click.version_option(__version__, prog_name="nvcf-mirror")
def cli(verbose: bool, quiet: bool, log_format: str) -> None:
    """Mirror NVIDIA Cloud Functions artifacts from NGC into your registry."""
    from provider_helper.progress import setup_logging  # here, not at the top: --version and --help never log

    wording.use(wording.CLI)
    envvars.check()
    setup_logging(verbose=verbose, quiet=quiet and not verbose, log_format=log_format)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI in this process: errors become one line on standard error; returns the exit code."""
    try:
        code = cli.main(args=argv, prog_name="nvcf-mirror", standalone_mode=False)
    except click.exceptions.Abort as exc:  # a declined confirmation, or click's form of Ctrl-C inside a command
        interrupted = isinstance(exc.__context__, KeyboardInterrupt)
        click.echo(f"nvcf-mirror: {INTERRUPTED}" if interrupted else "nvcf-mirror: aborted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        _fail(exc.format_message())
        return ExitCode.INPUT
    except SystemExit as exc:  # a command's own ``sys.exit(ExitCode.FAILED)`` after its summary
        return exc.code if isinstance(exc.code, int) else ExitCode.FAILED
    except (KeyboardInterrupt, Exception) as exc:
        outcome = outcome_of(exc, in_flags)
        if outcome is None:  # a bug: one line for the user, the traceback with -v
            log.debug("internal error", exc_info=True)
            click.echo(
                shown(f"nvcf-mirror: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)"),
                err=True,
            )
            return ExitCode.FAILED
        for line in outcome.lines:
            if outcome.is_error:
                _fail(line)
            else:
                click.echo(f"nvcf-mirror: {line}", err=True)
        return outcome.code
    return code if isinstance(code, int) else 0  # --help and --version end in click's Exit, returned as their code


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and exit with its code, without the interpreter's teardown (quickexit)."""
    exit_now(run(argv))


def in_flags(exc: SettingError) -> str:
    """A setting's error as the flag that set it: ``--set-version NAME=…: problem``."""
    value = (
        exc.value if exc.value is not None else ("…" if exc.setting == "set_versions" and "=" not in exc.item else None)
    )
    return f"{wording.setting(exc.setting)} {exc.item}{f'={value}' if value is not None else ''}: {exc.problem}"


def _fail(message: str) -> None:
    """The one error line: never more than one line, never a secret."""
    click.echo(f"nvcf-mirror: error: {' '.join(shown(message).split())}", err=True)
