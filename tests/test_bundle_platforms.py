"""Bundles holding multi-platform images: a lock lists an index's platform and attestation manifests
(each with what it needs), so a differential bundle (save --since) leaves out every manifest and blob
of an unchanged index, carries every one of a changed index, and loads onto its base to the new index."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _save(sandbox: Sandbox, manifest: Path, to: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--all-platforms",
        "--to",
        str(to),
        *extra,
        env=sandbox.env(),
    )


def _load(sandbox: Sandbox, bundle: Path, prefix: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "load",
        "--from",
        str(bundle),
        "--target",
        f"{sandbox.target.host}/{prefix}",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )


def _lock(bundle: Path) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in json.loads((bundle / "nvcf-mirror.lock.json").read_text())["artifacts"]}


def _held(bundle: Path, digest: str) -> bool:
    return (bundle / "blobs" / "sha256" / digest.split(":")[1]).exists()


def _children(sandbox: Sandbox, ns: str, name: str, digest: str) -> list[str]:
    raw = skopeo_raw(f"{sandbox.source.host}/{ns}/nvidia/{name}@{digest}", creds=f"$oauthtoken:{sandbox.api_key}")
    return [m["digest"] for m in json.loads(raw)["manifests"]]


def test_a_differential_bundle_of_indexes_lists_their_platform_manifests_and_carries_only_the_changed_ones(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    steady, _ = source.index(f"{ns}/nvidia/steady", "1")
    moving, _ = source.index(f"{ns}/nvidia/moving", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{name}:1", "group": "test"}
            for name in ("steady", "moving")
        ],
    )
    steady_children = _children(sandbox, ns, "steady", steady.digest)
    assert len(steady_children) == 4, "two platforms and their attestations"

    bundle1, bundle2 = tmp_path / "b1", tmp_path / "b2"
    first = _save(sandbox, manifest, bundle1)
    assert first.returncode == 0, first.stderr
    assert _lock(bundle1)["moving"]["digest"] == moving.digest, "--all-platforms saves the index itself"
    locked = _lock(bundle1)["steady"]
    assert locked["digest"] == steady.digest
    assert set(locked["manifests"]) == {steady.digest, *steady_children}, "the lock lists every manifest of the index"
    assert sorted(locked["manifests"][steady.digest]["manifests"]) == sorted(steady_children)
    for child in steady_children:
        assert locked["manifests"][child]["blobs"], f"what {child} needs is listed"

    moved, _ = source.index(f"{ns}/nvidia/moving", "1")  # same tag, every platform new
    moved_children = _children(sandbox, ns, "moving", moved.digest)
    second = _save(sandbox, manifest, bundle2, "--since", str(bundle1))
    assert second.returncode == 0, second.stderr
    for digest in [steady.digest, *steady_children]:
        assert not _held(bundle2, digest), f"{digest} of the unchanged index is in the base: left out"
    for digest in [moved.digest, *moved_children]:
        assert _held(bundle2, digest), f"{digest} of the changed index is carried"
    assert set(_lock(bundle2)["steady"]["manifests"]) == {steady.digest, *steady_children}, (
        "the new lock lists the whole selection"
    )

    site = f"{ns}-site"
    assert _load(sandbox, bundle1, site).returncode == 0
    loaded = _load(sandbox, bundle2, site)
    assert loaded.returncode == 0, loaded.stderr
    auth = sandbox.docker_config / "config.json"
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{site}/moving:1", authfile=auth)) == moved.digest
    for name, children in (("moving", moved_children), ("steady", steady_children)):
        for child in children:
            assert sha256(skopeo_raw(f"{sandbox.target.host}/{site}/{name}@{child}", authfile=auth)) == child
