"""exits.py: the one mapping from how a command ended to its exit code and lines, for both front doors."""

from __future__ import annotations

import pytest

from provider_helper.errors import (
    DeniedError,
    InputError,
    ManifestError,
    NotFoundError,
    SettingError,
    TransientError,
)
from provider_helper.exits import INTERRUPTED, outcome_of, results_code
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
