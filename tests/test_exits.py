"""exits.py: the one mapping from how a command ended to its exit code and lines, for both front doors."""

from __future__ import annotations

import pytest

from provider_helper.errors import (
    DeniedError,
    InputError,
    LicenceError,
    ManifestError,
    NotFoundError,
    SettingError,
    TransientError,
)
from provider_helper.exits import INTERRUPTED, ExitCode, Outcome, outcome_of, results_code
from provider_helper.results import ArtifactResult, Status


def _words(exc: SettingError) -> str:
    return f"<{exc.setting}> {exc.item}: {exc.problem}"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InputError("bad flag"), 2),
        (ManifestError(["m.yaml:3: artifacts[0]: no source"]), 2),
        (NotFoundError("no such tag"), 1),
        (DeniedError("no"), 1),
        (TransientError("503"), 1),
        (OSError("disk full"), 1),
        (KeyboardInterrupt(), 130),
    ],
)
def test_each_error_kind_has_its_exit_code(error: BaseException, code: int) -> None:
    outcome = outcome_of(error, _words)
    assert outcome is not None and outcome.code == code


def test_a_bug_has_no_outcome_so_each_door_reports_an_internal_error() -> None:
    assert outcome_of(ValueError("oops"), _words) is None


def test_the_lines_are_each_manifest_problem_and_a_setting_in_the_doors_words() -> None:
    problems = ["m.yaml:3: artifacts[0]: no source", "m.yaml:9: groups[1]: not a slug"]
    outcome = outcome_of(ManifestError(problems), _words)
    assert outcome is not None and outcome.lines == tuple(problems) and outcome.is_error
    outcome = outcome_of(SettingError("groups", "gpu", "no such group"), _words)
    assert outcome is not None and outcome.lines == ("<groups> gpu: no such group",)


def test_an_interruption_is_a_note_not_an_error() -> None:
    outcome = outcome_of(KeyboardInterrupt(), _words)
    assert outcome is not None and outcome.lines == (INTERRUPTED,) and not outcome.is_error


def test_a_copy_exits_1_when_one_artifact_failed_else_0() -> None:
    def result(status: Status) -> ArtifactResult:
        return ArtifactResult(key=f"image:{status}:1", type="image", group="g", source="s", target="t", status=status)

    assert int(results_code([result("copied"), result("present"), result("skipped")])) == 0
    assert int(results_code([result("copied"), result("failed")])) == 1


def test_the_codes_are_the_contracts_0_1_2_130() -> None:
    """CONTRACTS Exit codes: 0 done, 1 some artifacts failed, 2 bad input, 130 interrupted (128 + SIGINT)."""
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130]
    assert (ExitCode.DONE, ExitCode.FAILED, ExitCode.INPUT, ExitCode.INTERRUPTED) == (0, 1, 2, 130)
    assert INTERRUPTED == "interrupted; no tag was written for unfinished artifacts"


def test_a_file_system_failure_is_exit_1_with_its_own_line_not_an_internal_error() -> None:
    """CONTRACTS: "1 | some artifacts failed, or a server or the file system failed the command"."""
    outcome = outcome_of(PermissionError(13, "Permission denied"), _words)
    assert outcome is not None and (outcome.code, outcome.lines, outcome.is_error) == (
        1,
        ("[Errno 13] Permission denied",),
        True,
    )
    assert outcome_of(LicenceError("accept the licence"), _words) == Outcome(ExitCode.INPUT, ("accept the licence",))
