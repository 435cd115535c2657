"""wording: how the front doors name settings, and counts in words."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli, write_manifest

from provider_helper.wording import plural


def test_a_count_takes_the_noun_in_its_number() -> None:
    assert [plural(n, "group") for n in (0, 1, 2)] == ["0 groups", "1 group", "2 groups"]
    assert plural(1, "repository", "repositories") == "1 repository"
    assert plural(3, "repository", "repositories") == "3 repositories"


def test_manifest_validate_says_1_artifact_in_1_group(tmp_path: Path) -> None:
    entry = {"type": "image", "source": "nvcr.io/org/team/x:1", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    done = run_cli("manifest", "validate", str(manifest))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{manifest}: ok (1 artifact in 1 group)"]
