"""provider_helper/usecases/prune.py: what ``prune`` plans under the target's prefix, each branch: a repository whose
artifact is listed with a version keeps that version only; one whose artifact is skipped (no version pinned) is not
pruned at all, with a line saying so; against the sandbox's real registries."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from helpers import run_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _cli(sandbox: Sandbox, command: str, manifest: Path, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        command,
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{prefix}",
        *extra,
        env=sandbox.env(),
    )


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
