"""provider_helper/usecases/prune.py: what ``prune`` plans under the target's prefix, each branch: a repository whose
artifact is listed with a version keeps that version only; one whose artifact is skipped (no version pinned) is not
pruned at all, with a line saying so; against the sandbox's real registries."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import sandbox_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _cli(sandbox: Sandbox, command: str, manifest: Path, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return sandbox_cli(sandbox, command, manifest, *extra, prefix=prefix)


def _entry(ns: str, name: str, tag: str | None) -> dict[str, Any]:
    source = f"nvcr.io/{ns}/nvidia/{name}" + (f":{tag}" if tag else "")
    return {"type": "image", "source": source, "group": "test", **({} if tag else {"needs_version": True})}


def test_a_repository_whose_artifact_has_no_version_is_not_pruned_and_a_pinned_one_is(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    for name in ("app-a", "app-b"):
        for tag in ("1.0", "2.0"):
            source.image(f"{ns}/nvidia/{name}", tag, layer_sizes=(2_000,))
    both = write_manifest(
        tmp_path / "both.yaml",
        [_entry(ns, name, tag) for name in ("app-a", "app-b") for tag in ("1.0", "2.0")],
    )
    assert _cli(sandbox, "mirror", both, f"{ns}/rel").returncode == 0
    later = write_manifest(tmp_path / "later.yaml", [_entry(ns, "app-a", None), _entry(ns, "app-b", "2.0")])
    dry = _cli(sandbox, "prune", later, f"{ns}/rel", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert [line.split()[0] for line in dry.stdout.strip().splitlines()] == [f"{ns}/rel/app-b:1.0"]
    logged = [line.split(" ", 1)[1] for line in dry.stderr.strip().splitlines()]  # after the timestamp
    assert logged[0] == (
        f"nvcf-mirror: not pruning {ns}/rel/app-a: app-a has no version: pin it in the manifest or with "
        "--set-version app-a=VERSION"
    )
    assert logged[-1].startswith("nvcf-mirror: 1 tags and 0 referrers (")
    assert logged[-1].endswith(f") under {sandbox.target.host}/{ns}/rel would be removed (dry run)")


def test_prune_leaves_alone_a_repository_whose_artifact_is_skipped_for_want_of_a_version(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README Upgrading: "a repository whose artifact is skipped for want of a version is left alone". tool:0.9 was
    mirrored while pinned; the selection now lists tool without a version (skipped): prune lists none of its tags,
    says why on one line, and `--yes` keeps it, while it still prunes the superseded app:1.0 beside it."""
    tool = source.image(f"{ns}/nvidia/tool", "0.9")
    source.image(f"{ns}/nvidia/app", "1.0")
    source.image(f"{ns}/nvidia/app", "2.0")

    def entry(name: str, tag: str | None) -> dict[str, object]:
        if tag is None:
            return {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{name}", "group": "test", "needs_version": True}
        return {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{name}:{tag}", "group": "test"}

    before = write_manifest(tmp_path / "before.yaml", [entry("tool", "0.9"), entry("app", "1.0")])
    now = write_manifest(tmp_path / "now.yaml", [entry("tool", None), entry("app", "2.0")])
    prefix = f"{sandbox.target.host}/{ns}"

    def cli(command: str, manifest: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return sandbox_cli(sandbox, command, manifest, *extra, prefix=ns)

    for manifest in (before, now):
        assert cli("mirror", manifest).returncode == 0
    dry = cli("prune", now, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert [line.split()[0] for line in dry.stdout.splitlines()] == [f"{ns}/app:1.0"], dry.stdout
    assert any(f"not pruning {ns}/tool: " in line for line in dry.stderr.splitlines()), dry.stderr
    assert cli("prune", now, "--yes").returncode == 0
    authfile = sandbox.docker_config / "config.json"
    assert sha256(skopeo_raw(f"{prefix}/tool:0.9", authfile=authfile)) == tool.digest, "left alone"
    with pytest.raises(LookupError):  # superseded by 2.0
        skopeo_raw(f"{prefix}/app:1.0", authfile=authfile)
