"""Unit tests of provider_helper/cli/root.py, the CLI's front door: how a usage error ends."""

from __future__ import annotations

import pytest
from helpers import run_cli


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["mirror", "--no-such-flag"], "No such option '--no-such-flag'."),
        (["mirror", "--blob-jobs"], "Option '--blob-jobs' requires an argument."),
        (["mirror", "--blob-jobs", "0"], "Invalid value for '--blob-jobs': 0 is not in the range 1<=x<=64."),
        (["--log-format", "xml", "plan"], "Invalid value for '--log-format': 'xml' is not one of 'text', 'json'."),
        (["no-such-command"], "No such command 'no-such-command'."),
    ],
)
def test_a_bad_or_missing_flag_is_one_error_line_and_exit_2(argv: list[str], line: str) -> None:
    """CONTRACTS, Exit codes: "2 | bad input: a flag or module setting ..."; README Use: "2 bad input". An unknown
    flag, a flag without its value, a value out of range or not among the choices, an unknown command: one line,
    nothing on standard output, exit 2."""
    done = run_cli(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"nvcf-mirror: error: {line}\n"
    assert done.stdout == ""
