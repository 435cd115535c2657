"""Blob locations remembered across runs: a copy into a new prefix of a registry that already holds
the blobs mounts them and downloads nothing from the source (a second cluster in the same account)."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultproxy import FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.mirror.locations import BlobLocations
from provider_helper.sandbox.images import OCI_LAYER, Factory
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture
def three_images(source: Factory, ns: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Three images over one shared base layer, each with a layer of its own."""
    base = gzip.compress(os.urandom(200_000), compresslevel=1)
    expected = {}
    for i in range(3):
        repo = f"{ns}/nvidia/i{i}"
        expected[f"i{i}:1"] = source.image(
            repo, "1", shared=(source.blob(repo, base, OCI_LAYER),), layer_sizes=(100_000,)
        ).digest
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/i{i}:1", "group": "test"} for i in range(3)],
    )
    return manifest, expected


@pytest.fixture
def source_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.source.url)
    yield proxy
    proxy.close()


def _mirror(
    sandbox: Sandbox, proxy: FaultProxy, manifest: Path, prefix: str, cache: Path, *extra: str
) -> dict[str, Any]:
    result = manifest.parent / f"{prefix.replace('/', '_')}.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        proxy.host,
        "--target",
        f"{sandbox.target.host}/{prefix}",
        "--result-file",
        str(result),
        *extra,
        env={**sandbox.env(), "NVCF_MIRROR_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(result.read_text())
    return doc


def _manifest_bytes(doc: dict[str, Any], sandbox: Sandbox) -> int:
    return sum(
        len(skopeo_raw(f"{a['target']}", authfile=sandbox.docker_config / "config.json")) for a in doc["artifacts"]
    )


def _assert_mounted(
    sandbox: Sandbox, proxy: FaultProxy, doc: dict[str, Any], prefix: str, expected: dict[str, str]
) -> None:
    """Every blob was mounted: only manifests were sent, and no layer was read from the source
    (the configs are, for the platform check); the target holds the source's digests."""
    assert doc["summary"]["bytes_copied"] == _manifest_bytes(doc, sandbox), "no blob was uploaded"
    assert _layer_gets(sandbox, proxy, doc) == 0, "no layer was downloaded from the source"
    _assert_digests(sandbox, prefix, expected)


def _assert_digests(sandbox: Sandbox, prefix: str, expected: dict[str, str]) -> None:
    for name, digest in expected.items():
        assert (
            sha256(skopeo_raw(f"{sandbox.target.host}/{prefix}/{name}", authfile=sandbox.docker_config / "config.json"))
            == digest
        )


def test_a_second_prefix_mounts_every_blob_and_downloads_none_from_the_source(
    sandbox: Sandbox, source_proxy: FaultProxy, three_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = three_images
    cache = tmp_path / "cache"
    first = _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-a", cache)
    assert first["summary"]["bytes_copied"] > 300_000
    source_proxy.clear()
    second = _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-b", cache)
    assert second["summary"]["copied"] == 3
    _assert_mounted(sandbox, source_proxy, second, f"{ns}/cluster-b", expected)


def test_mount_from_names_the_other_prefix_when_nothing_is_remembered(
    sandbox: Sandbox, source_proxy: FaultProxy, three_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = three_images
    _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-a", tmp_path / "cache-1")
    source_proxy.clear()
    control = _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-c", tmp_path / "cache-2")
    assert control["summary"]["bytes_copied"] > 300_000, (
        "with nothing remembered and no hint, every blob is uploaded again"
    )
    source_proxy.clear()
    hinted = _mirror(
        sandbox, source_proxy, manifest, f"{ns}/cluster-b", tmp_path / "cache-3", "--mount-from", f"{ns}/cluster-a"
    )
    _assert_mounted(sandbox, source_proxy, hinted, f"{ns}/cluster-b", expected)


def test_a_remembered_location_the_registry_refuses_falls_back_to_an_upload_and_is_forgotten(
    sandbox: Sandbox, source_proxy: FaultProxy, three_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = three_images
    cache = tmp_path / "cache"
    first = _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-a", cache)
    locations = BlobLocations(sandbox.target.host, cache / "blob-locations.sqlite")
    digests = {d for a in first["artifacts"] for d in _blob_digests(sandbox, a["target"])}
    for digest in digests:  # the newest entry names a repository that never held them (a deleted cluster, say)
        locations.remember(digest, f"{ns}/gone/i0")
    second = _mirror(sandbox, source_proxy, manifest, f"{ns}/cluster-b", cache)
    assert second["summary"]["copied"] == 3
    _assert_digests(sandbox, f"{ns}/cluster-b", expected)
    assert all(f"{ns}/gone/i0" not in locations.holders(d) for d in digests), "a refused location is forgotten"
    locations.close()


def _layer_gets(sandbox: Sandbox, proxy: FaultProxy, doc: dict[str, Any]) -> int:
    layers = {d for a in doc["artifacts"] for d in _blob_digests(sandbox, a["target"])[1:]}
    return sum(proxy.count("GET", f"/blobs/{digest}$") for digest in layers)


def _blob_digests(sandbox: Sandbox, reference: str) -> list[str]:
    body = json.loads(skopeo_raw(reference, authfile=sandbox.docker_config / "config.json"))
    return [body["config"]["digest"], *(layer["digest"] for layer in body["layers"])]


# -- the remembered locations themselves, in process -------------------------------------------------------------


def test_a_location_is_remembered_across_runs_per_registry_most_recent_first_and_forgotten_when_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cache" / "blob-locations.sqlite"
    digest = sha256(b"layer")
    first = BlobLocations("registry.example", path)
    for repo in ("a/app", "b/app"):
        first.remember(digest, repo)
    first.close()
    again = BlobLocations("registry.example", path)  # the next run
    assert again.holders(digest) == ["b/app", "a/app"]
    assert BlobLocations("other.example", path).holders(digest) == [], "one registry's blobs are not another's"
    again.forget(digest, "b/app")
    assert again.holders(digest) == ["a/app"]
    again.close()


def test_the_cache_is_this_users_private_file_under_nvcf_mirror_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NVCF_MIRROR_CACHE_DIR", str(tmp_path / "cache"))
    locations = BlobLocations("registry.example")
    locations.remember(sha256(b"x"), "a/app")
    locations.close()
    file = tmp_path / "cache" / "blob-locations.sqlite"
    assert file.is_file() and (file.stat().st_mode & 0o777) == 0o600
    assert ((tmp_path / "cache").stat().st_mode & 0o777) == 0o700


def test_a_cache_that_cannot_be_used_is_only_a_hint_lost_never_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    locations = BlobLocations("registry.example", blocked / "blob-locations.sqlite")
    locations.remember(sha256(b"x"), "a/app")
    assert locations.holders(sha256(b"x")) == []
    locations.forget(sha256(b"x"), "a/app")
    locations.close()
