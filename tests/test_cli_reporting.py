"""provider_helper/cli/reporting.py: how a copying command ends: the result file, the summary line, the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provider_helper.cli.reporting import discard_stale, exit_for, report_copy
from provider_helper.results import ArtifactResult, Status
from provider_helper.session import RunConfig

TARGET = "registry.example/prefix"


def _results(*statuses: Status) -> list[ArtifactResult]:
    return [
        ArtifactResult(
            f"image:a{i}:1", "image", "g", f"nvcr.io/org/a{i}:1", f"{TARGET}/a{i}:1", status=s, bytes_copied=10
        )
        for i, s in enumerate(statuses)
    ]


def test_a_stale_result_file_is_removed_and_none_is_nothing_to_do(tmp_path: Path) -> None:
    """CONTRACTS: a result file is "removed when a run stops before it could write one"."""
    stale = tmp_path / "result.json"
    stale.write_text("{}")
    discard_stale(str(stale))
    assert not stale.exists()
    discard_stale(str(stale))  # already gone
    discard_stale(None)


def test_exit_1_when_one_artifact_failed_else_the_command_returns() -> None:
    """CONTRACTS: "0 | ... every selected artifact copied, present or verified", "1 | some artifacts failed"."""
    exit_for(_results("copied", "present", "skipped"))
    with pytest.raises(SystemExit) as failed:
        exit_for(_results("copied", "failed"))
    assert failed.value.code == 1


def test_report_copy_writes_the_result_document_then_exits_as_the_results_say(tmp_path: Path) -> None:
    result_file = tmp_path / "r.json"
    config = RunConfig(target=TARGET)
    with pytest.raises(SystemExit) as failed:
        report_copy(config, [], _results("copied", "failed"), 1.5, str(result_file), dry_run=False)
    assert failed.value.code == 1
    doc = json.loads(result_file.read_text())
    assert doc["version"] == 1 and doc["target"] == TARGET
    assert [a["status"] for a in doc["artifacts"]] == ["copied", "failed"]
    assert {k: doc["summary"][k] for k in ("copied", "failed", "bytes_copied", "seconds")} == {
        "copied": 1,
        "failed": 1,
        "bytes_copied": 20,
        "seconds": 1.5,
    }
    assert "helm_values" in doc
    report_copy(config, [], _results("present"), 0.1, None, dry_run=True)  # no file asked for, nothing failed


def test_the_result_file_is_replaced_never_written_through_a_planted_link(tmp_path: Path) -> None:
    """CONTRACTS: "A result file is replaced atomically"; README Security: "a link planted under any name is
    replaced, never followed"."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    result_file = tmp_path / "r.json"
    result_file.symlink_to(victim)
    report_copy(RunConfig(target=TARGET), [], _results("copied"), 0.1, str(result_file), dry_run=False)
    assert victim.read_text() == "keep"
    assert not result_file.is_symlink() and json.loads(result_file.read_text())["summary"]["copied"] == 1
    assert result_file.stat().st_mode & 0o777 == 0o600
