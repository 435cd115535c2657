"""mirror/diff.py: which artifacts of a manifest a diff counts (its default groups, those --group names, or
all with --all-groups), in process and through ``manifest diff``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, write_manifest

from provider_helper import manifest as manifest_mod
from provider_helper.errors import InputError
from provider_helper.mirror.diff import GroupChoice, diff, listed

GROUPS = [{"name": "core", "default": True}, {"name": "extra", "default": False}, {"name": "more", "default": False}]


def _entry(name: str, version: str, group: str) -> dict[str, Any]:
    return {"type": "image", "source": f"nvcr.io/org/{name}:{version}", "group": group}


def _sides(tmp_path: Path) -> tuple[Path, Path]:
    old = write_manifest(
        tmp_path / "old.yaml",
        [_entry("base", "1.0", "core"), _entry("addon", "1.0", "extra"), _entry("tool", "1.0", "more")],
        GROUPS,
    )
    new = write_manifest(
        tmp_path / "new.yaml",
        [_entry("base", "1.1", "core"), _entry("addon", "2.0", "extra"), _entry("tool", "3.0", "more")],
        GROUPS,
    )
    return old, new


def _changed(doc: dict[str, Any]) -> list[str]:
    return sorted(c["name"] for c in doc["changed"])


def test_a_diff_counts_the_default_groups_or_those_group_names_or_all_with_all_groups(tmp_path: Path) -> None:
    """README Upgrading: manifest diff "Of a manifest, its default groups count, or those --group names, or
    all with --all-groups.\""""
    old, new = _sides(tmp_path)
    assert _changed(diff(str(old), str(new)).as_dict()) == ["base"]
    assert _changed(diff(str(old), str(new), GroupChoice(groups=("extra",))).as_dict()) == ["addon"]
    assert _changed(diff(str(old), str(new), GroupChoice(all_groups=True)).as_dict()) == ["addon", "base", "tool"]
    for flags, names in (
        ((), ["base"]),
        (("--group", "more"), ["tool"]),
        (("--all-groups",), ["addon", "base", "tool"]),
    ):
        done = run_cli("manifest", "diff", str(old), str(new), *flags, "--output", "json")
        assert done.returncode == 0, done.stderr
        assert _changed(json.loads(done.stdout)) == names, flags


def test_a_side_named_like_a_release_is_checked_by_the_one_release_check_in_the_diffs_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A side that is no file and looks like a release name is refused by ``manifest.bundled_path``, the check
    ``--release`` uses too (no second list of names to drift), worded for a side of the diff: tests/test_upgrades.py
    quotes "v9.9: not a bundled NVCF release (bundled: v0.5", tests/test_manifest.py the --release wording."""
    monkeypatch.chdir(tmp_path)  # no file called v9.9 here
    with pytest.raises(InputError) as refused:
        listed("v9.9", GroupChoice())
    bundled = ", ".join(manifest_mod.releases())
    assert str(refused.value) == f"v9.9: not a bundled NVCF release (bundled: {bundled})"
    assert refused.traceback[-1].name == "bundled_path", "refused by the one release check, not a twin of it"
    with pytest.raises(InputError, match=r"^--release v9\.9: no such bundled release \(releases: v0\.5, "):
        manifest_mod.bundled_path("v9.9")
