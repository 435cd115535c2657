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


def test_the_json_lists_added_removed_and_changed_with_the_documented_keys_whole(tmp_path: Path) -> None:
    """README Upgrading: --output json gives {"old", "new", "added": [...], "removed": [...], "changed": [{"type",
    "name", "from", "to", "group", "source_from", "source_to"}]} (an added or removed one has type, name,
    version, group, source)."""
    old = write_manifest(tmp_path / "old.yaml", [_entry("base", "1.0", "core"), _entry("gone", "1.0", "core")], GROUPS)
    new = write_manifest(tmp_path / "new.yaml", [_entry("base", "1.1", "core"), _entry("fresh", "2.0", "core")], GROUPS)
    done = run_cli("manifest", "diff", str(old), str(new), "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "old": str(old),
        "new": str(new),
        "added": [
            {"type": "image", "name": "fresh", "version": "2.0", "group": "core", "source": "nvcr.io/org/fresh:2.0"}
        ],
        "removed": [
            {"type": "image", "name": "gone", "version": "1.0", "group": "core", "source": "nvcr.io/org/gone:1.0"}
        ],
        "changed": [
            {
                "type": "image",
                "name": "base",
                "from": "1.0",
                "to": "1.1",
                "group": "core",
                "source_from": "nvcr.io/org/base:1.0",
                "source_to": "nvcr.io/org/base:1.1",
            }
        ],
    }
    table = run_cli("manifest", "diff", str(old), str(new))
    assert table.stdout.splitlines() == [
        "+ image fresh 2.0         (core)",
        "- image gone  1.0         (core)",
        "~ image base  1.0 -> 1.1  (core)",
        f"1 added, 1 removed, 1 changed: {old} -> {new}",
    ]


def test_an_unchanged_artifact_is_in_no_list_and_another_type_of_the_same_name_is_added(tmp_path: Path) -> None:
    chart = {"type": "chart", "source": "nvcr.io/org/base:1.0", "group": "core", "name": "base-chart"}
    old = write_manifest(tmp_path / "old.yaml", [_entry("base", "1.0", "core")], GROUPS)
    new = write_manifest(tmp_path / "new.yaml", [_entry("base", "1.0", "core"), chart], GROUPS)
    result = diff(str(old), str(new))
    assert ([a.name for a in result.added], result.removed, result.changed) == (["base-chart"], [], [])


def test_a_side_that_is_no_manifest_bundle_lock_or_release_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """README Upgrading: "A side that is none of these is one line, exit 2"."""
    missing = tmp_path / "nowhere.yaml"
    for side, line in (
        (str(missing), f"{missing}: no such manifest, bundle or lock file, and not a bundled release name"),
        ("v9.9", "v9.9: not a bundled NVCF release (bundled: v0.5, v0.6.0, v0.6.1, v1.0)"),
    ):
        done = run_cli("manifest", "diff", side, "v0.5")
        assert done.returncode == 2
        assert done.stderr.splitlines() == [f"nvcf-mirror: error: {line}"]
        done = run_cli("manifest", "diff", "v0.5", side)
        assert (done.returncode, done.stderr.splitlines()) == (2, [f"nvcf-mirror: error: {line}"])
