"""provider_helper/mirror/bundle_lock.py (and the lock format of mirror/bundles.py): the lock a save writes, field by
field as docs/CONTRACTS.md states it; its base named by digest and file name; where a base lock is read from; the
checks load makes of each entry, each refusal the whole line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import readme_text
from helpers import sha256

from provider_helper.artifacts import Artifact
from provider_helper.errors import InputError
from provider_helper.mirror.bundle_lock import check_entry, write_lock
from provider_helper.mirror.bundles import (
    LOCK_FILE,
    LOCK_VERSION,
    MAX_LOCK_BYTES,
    read_lock_bytes,
)
from provider_helper.mirror.plan import Job
from provider_helper.oci.manifest import OCI_MANIFEST
from provider_helper.oci.reference import Reference
from provider_helper.results import ArtifactResult


def test_a_lock_is_read_up_to_the_16_mib_the_readme_states_and_refused_one_byte_past(tmp_path: Path) -> None:
    """README Limits: "a bundle's `index.json` / lock (`load`, `verify --from`, `save --since`) / split checksum
    list, read before it is parsed | 4 MiB / 16 MiB / 1 MiB"."""
    limit = readme_text.size(readme_text.limit("a bundle's `index.json` / lock").split(" / ")[1])
    assert limit == MAX_LOCK_BYTES
    lock = tmp_path / "nvcf-mirror.lock.json"
    lock.write_bytes(b" " * limit)
    assert read_lock_bytes(lock) == (b" " * limit, str(lock))
    lock.write_bytes(b" " * (limit + 1))
    with pytest.raises(InputError, match=f"larger than {limit} bytes"):
        read_lock_bytes(lock)


def _image_in(root: Path) -> tuple[str, str, int]:
    """One image manifest written into the layout at ``root``: (its digest, its layer's digest, the layer's size)."""
    layer = b"layer bytes"
    config = b"{}"
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(layer), "size": 11}],
    }
    data = json.dumps(body).encode()
    for blob in (data, layer, config):
        path = root / "blobs" / "sha256" / sha256(blob).split(":")[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return sha256(data), sha256(layer), len(layer)


def _saved(digest: str, status: str = "copied") -> tuple[ArtifactResult, Job]:
    artifact = Artifact(
        type="image",
        group="infrastructure",
        name="nvcf-openbao",
        where="m.yaml:3",
        image=Reference("nvcr.io", "0833294136851237/nvcf-ncp-staging/nvcf-openbao", tag="2.5.1-nv-1.1.0"),
    )
    job = Job(artifact, Reference("", "nvcf-openbao", tag="2.5.1-nv-1.1.0"), None, None)
    result = ArtifactResult(
        key=artifact.key,
        type="image",
        group="infrastructure",
        source="nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0",
        target="nvcf-openbao:2.5.1-nv-1.1.0",
        digest=digest,
        platforms=["linux/amd64"],
        status=status,  # type: ignore[arg-type]
    )
    return result, job


def test_the_lock_a_save_writes_has_every_field_of_the_contract(tmp_path: Path) -> None:
    """docs/CONTRACTS.md, "The lock file of a saved layout": version 2, base null, and each artifact's key, name,
    tag, digest, source, platforms, group, entry, attached and manifests (with the blobs and manifests each needs)."""
    digest, layer, size = _image_in(tmp_path)
    result, job = _saved(digest)
    write_lock(tmp_path, [result], [job])
    lock = json.loads((tmp_path / "nvcf-mirror.lock.json").read_text())
    assert lock == {
        "version": 2,
        "base": None,
        "artifacts": [
            {
                "key": "image:nvcf-openbao:2.5.1-nv-1.1.0",
                "name": "nvcf-openbao",
                "tag": "2.5.1-nv-1.1.0",
                "source": "nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0",
                "digest": digest,
                "platforms": ["linux/amd64"],
                "group": "infrastructure",
                "entry": {
                    "type": "image",
                    "group": "infrastructure",
                    "name": "nvcf-openbao",
                    "source": "nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0",
                },
                "attached": [],
                "manifests": {
                    digest: {
                        "blobs": [{"digest": sha256(b"{}"), "size": 2}, {"digest": layer, "size": size}],
                        "manifests": [],
                    }
                },
            }
        ],
    }
    assert list(lock) == ["version", "base", "artifacts"]
    assert LOCK_FILE == "nvcf-mirror.lock.json" and LOCK_VERSION == 2


def test_a_failed_artifact_is_not_in_the_lock(tmp_path: Path) -> None:
    digest, _, _ = _image_in(tmp_path)
    write_lock(tmp_path, [_saved(digest, "failed")[0]], [_saved(digest)[1]])
    assert json.loads((tmp_path / "nvcf-mirror.lock.json").read_text())["artifacts"] == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"name": "../victim/app"}, "name '../victim/app' is not a repository path"),
        ({"tag": "bad tag"}, "tag 'bad tag' is not a valid tag"),
        ({"digest": "sha256:../../dev/zero"}, "digest 'sha256:../../dev/zero' is not a valid digest"),
    ],
)
def test_a_lock_entry_load_cannot_trust_is_one_line_naming_the_lock_and_the_artifact(
    tmp_path: Path, change: dict[str, str], says: str
) -> None:
    entry = {"key": "image:a:1", "name": "a", "tag": "1", "digest": "sha256:" + "4" * 64, **change}
    lock = tmp_path / "nvcf-mirror.lock.json"
    with pytest.raises(InputError) as refused:
        check_entry(entry, lock)
    assert str(refused.value) == f"{lock}: image:a:1: {says}"
