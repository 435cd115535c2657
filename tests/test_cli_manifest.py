"""Unit tests of provider_helper/cli/manifest.py: the `manifest` commands' flags."""

from __future__ import annotations

from helpers import run_cli


def test_manifest_diff_refuses_group_with_all_groups_in_one_line_exit_2() -> None:
    """README Use: "Flags that exclude each other (`--group` with `--all-groups`, ...) stop the command with one line
    naming both, exit 2"; Upgrading: "`manifest diff OLD NEW [--output table|json] [--group NAME | --all-groups]`".
    Each alone is taken (exit 0); both together print nothing but that line."""
    for alone in (["--group", "supporting"], ["--all-groups"]):
        done = run_cli("manifest", "diff", "v0.5", "v1.0", *alone)
        assert done.returncode == 0, (alone, done.stderr)
    both = run_cli("manifest", "diff", "v0.5", "v1.0", "--group", "supporting", "--all-groups")
    assert both.returncode == 2
    assert both.stderr == "nvcf-mirror: error: --group and --all-groups exclude each other\n"
    assert both.stdout == ""
