"""provider_helper/cli/options.py: the options the commands share (here: --result-file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/p"


@pytest.mark.parametrize("command", ["mirror", "load"])
def test_a_result_file_left_by_an_earlier_run_is_removed_when_a_run_stops_before_writing_one(
    tmp_path: Path, command: str
) -> None:
    """README/CONTRACTS: "A result file is replaced atomically, and removed when a run stops before writing
    a new one." The run stops at its input (exit 2): the earlier run's document is gone, not left to
    look current."""
    stale = tmp_path / "result.json"
    stale.write_text('{"version": 1, "summary": {"failed": 0}}')
    source = ("--manifest", str(tmp_path / "missing.yaml")) if command == "mirror" else ("--from", str(tmp_path / "x"))
    done = run_cli(command, *source, "--target", ECR, "--result-file", str(stale))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert not stale.exists()
