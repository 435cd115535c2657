"""How a command's end reads to whoever started it, the same for both front doors (the CLI's ``run``,
the Terraform adapter's ``main``): the exit code, a contract (docs/CONTRACTS.md, "Exit codes"), and
the lines an error is shown as. Each door only adds its prefix and its own words for a setting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from provider_helper.errors import InputError, RegistryError, SettingError, error_lines

if TYPE_CHECKING:  # not imported at run time: every command's start (even --version) imports this module
    from provider_helper.results import ArtifactResult


class ExitCode(IntEnum):
    DONE = 0  # every artifact is at the target
    FAILED = 1  # some artifacts failed (the rest were still copied and the result file written), or the command did
    INPUT = 2  # bad input: flags or module settings, a manifest, missing credentials; nothing was pushed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT): no tag was written for an unfinished artifact


INTERRUPTED = "interrupted; no tag was written for unfinished artifacts"


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    lines: tuple[str, ...]  # what to show, without the door's prefix; not yet redacted
    is_error: bool = True  # False for an interruption, shown as a plain note


def outcome_of(exc: BaseException, setting_words: Callable[[SettingError], str]) -> Outcome | None:
    """The exit code and lines for what a command ended with: an error kind, or Ctrl-C. None for anything
    else (a bug), which each door reports as an internal error."""
    if isinstance(exc, KeyboardInterrupt):
        return Outcome(ExitCode.INTERRUPTED, (INTERRUPTED,), is_error=False)
    if isinstance(exc, InputError):
        return Outcome(ExitCode.INPUT, tuple(error_lines(exc, setting_words)))
    if isinstance(exc, (RegistryError, OSError)):
        return Outcome(ExitCode.FAILED, tuple(error_lines(exc, setting_words)))
    return None


def results_code(results: Iterable[ArtifactResult]) -> ExitCode:
    """A finished copy's code: FAILED when one artifact failed, else DONE."""
    return ExitCode.FAILED if any(r.status == "failed" for r in results) else ExitCode.DONE
