"""Unit tests of provider_helper/cli/manifest.py: `manifest validate|show|import|diff` as a user runs them. The
figures the README states (69 entries in 11 groups, 99 artifacts in v1.0, each release's default groups) are
read from the README and compared with what `manifest show` prints, so the two cannot drift apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import readme_text
from helpers import run_cli, write_manifest

from provider_helper import manifest as manifest_mod


def _release_rows() -> dict[str, list[str]]:
    """The README's Bundled releases table: release -> the default groups its last column names."""
    rows = re.findall(
        r"\| `(v[\d.]+)`(?: \(the default\))?(?:, `(v[\d.]+)`)? \| [^|]+ \| ([^|]+) \|", readme_text.README
    )
    table: dict[str, list[str]] = {}
    for first, second, groups in rows:
        for name in filter(None, (first, second)):
            table[name] = re.findall(r"`([\w-]+)`", groups.split("(")[0])
    return table


def test_show_without_options_lists_each_bundled_release_with_its_counts_and_default_groups() -> None:
    done = run_cli("manifest", "show")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == (
        "nvcf-mirror manifest show --release NAME lists one; --release NAME picks one for plan, mirror and the rest"
    )
    readme_defaults = _release_rows()
    assert list(readme_defaults) == manifest_mod.releases() == [line.split(" ")[0].rstrip(":") for line in lines[:-1]]
    for name, line in zip(manifest_mod.releases(), lines, strict=False):
        loaded = manifest_mod.load(release=name)
        selected = [a for a in loaded.artifacts if a.group in loaded.default_groups]
        marker = " (the default)" if name == "v0.5" else ""
        assert line == (
            f"{name}{marker}: {loaded.description}; {len(loaded.artifacts)} artifacts, {len(selected)} selected by "
            f"default (groups: {', '.join(loaded.default_groups)})"
        )
        assert set(readme_defaults[name]) <= set(loaded.default_groups), name
    v05 = readme_text.said(r"holds all (\d+) entries of the NVCF v0\.5 artifact list in (\d+) groups")
    assert f"v0.5 (the default): NVIDIA Cloud Functions self-hosted v0.5; {v05[1]} artifacts" in lines[0]
    assert len(manifest_mod.load().groups) == int(v05[2])
    v10 = readme_text.said(r"observability 1\.0\.0: (\d+) artifacts from nvcr\.io")
    assert f"; {v10[1]} artifacts, " in lines[3]


def test_show_marks_each_group_default_or_opt_in_and_lists_its_artifacts(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "main"},
            {
                "type": "image",
                "source": "nvcr.io/nvidia/cloud-native/k8s-device-plugin",
                "group": "extra",
                "needs_version": True,
            },
        ],
        [{"name": "main", "default": True, "description": "what runs"}, {"name": "extra", "description": "more"}],
    )
    done = run_cli("manifest", "show", "--manifest", str(manifest))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "main (default, 1 artifact): what runs",
        "  image    nvcf-api:1.27.1  <- nvcr.io/nvidia/nvcf/nvcf-api:1.27.1",
        "extra (opt-in, 1 artifact): more",
        "  image    k8s-device-plugin:?  <- nvcr.io/nvidia/cloud-native/k8s-device-plugin  [needs a version]",
    ]
    one = run_cli("manifest", "show", "--manifest", str(manifest), "--group", "extra")
    assert one.stdout.splitlines()[0] == "extra (opt-in, 1 artifact): more"
    unknown = run_cli("manifest", "show", "--manifest", str(manifest), "--group", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [
        f"nvcf-mirror: error: --group nope: no such group in {manifest} (groups: extra, main)"
    ]


def test_validate_says_ok_with_the_counts_or_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    good = write_manifest(tmp_path / "good.yaml", [{"type": "image", "source": "nvcr.io/a/b:1", "group": "test"}])
    done = run_cli("manifest", "validate", str(good))
    assert (done.returncode, done.stdout) == (0, f"{good}: ok (1 artifact in 1 group)\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: nvcf-mirror/v1\ngroups:\n  - name: test\nartifacts:\n  - type: imag\n    source: x\n")
    done = run_cli("manifest", "validate", str(bad))
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith(f"nvcf-mirror: error: {bad}:5: artifacts[0]")


@pytest.mark.parametrize("order", [("--group", "self-managed", "--all-groups"), ("--all-groups", "--group", "x")])
def test_diff_refuses_group_with_all_groups_in_one_line_naming_both(order: tuple[str, ...]) -> None:
    done = run_cli("manifest", "diff", "v0.6.1", "v1.0", *order)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["nvcf-mirror: error: --group and --all-groups exclude each other"]
    assert done.stdout == ""


def test_diff_of_two_bundled_releases_prints_the_counts_line_and_json_on_request() -> None:
    done = run_cli("manifest", "diff", "v0.6.0", "v0.6.1")
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"\d+ added, \d+ removed, \d+ changed: v0\.6\.0 -> v0\.6\.1", last), last
    doc = json.loads(run_cli("manifest", "diff", "v0.6.0", "v0.6.1", "--output", "json").stdout)
    assert list(doc) == ["old", "new", "added", "removed", "changed"]
    assert (
        last == f"{len(doc['added'])} added, {len(doc['removed'])} removed, {len(doc['changed'])} changed: "
        "v0.6.0 -> v0.6.1"
    )


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
