"""provider_helper/content/built.py: content the tool built (a classic chart as helm push writes it, an NGC
resource version), as a read-only store of one artifact: it has its own digest and nothing else (no tags, no
referrers), its blobs are bytes in hand or files read when opened, and a blob read whole passes the
digest-verifying reader (a file that changed since it was built is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import sha256

from provider_helper.content.built import BuiltArtifact
from provider_helper.errors import DigestMismatchError, NotFoundError
from provider_helper.oci.manifest import OCI_MANIFEST, Manifest

CONFIG = b'{"name":"gpu-operator","version":"25.3.1"}'
CHART = b"a chart archive" * 100


def _built(tmp_path: Path) -> tuple[BuiltArtifact, Path]:
    archive = tmp_path / "gpu-operator-25.3.1.tgz"
    archive.write_bytes(CHART)
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.cncf.helm.config.v1+json",
            "digest": sha256(CONFIG),
            "size": len(CONFIG),
        },
        "layers": [
            {
                "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                "digest": sha256(CHART),
                "size": len(CHART),
            }
        ],
    }
    manifest = Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST)
    return BuiltArtifact(manifest, {sha256(CONFIG): CONFIG, sha256(CHART): archive}), archive


def test_a_built_artifact_has_its_own_digest_and_no_tag_or_referrers(tmp_path: Path) -> None:
    built, _ = _built(tmp_path)
    digest = built.manifest.digest
    assert built.head_manifest("charts/gpu-operator", digest) == digest
    assert built.head_manifest("charts/gpu-operator", "25.3.1") is None, "a built artifact has no tags"
    assert built.get_manifest("charts/gpu-operator", digest) is built.manifest
    with pytest.raises(NotFoundError):
        built.get_manifest("charts/gpu-operator", "25.3.1")
    assert built.tags("charts/gpu-operator") == []
    assert built.list_referrers("charts/gpu-operator", digest) is None


def test_its_blobs_are_bytes_in_hand_or_files_read_when_opened(tmp_path: Path) -> None:
    built, _ = _built(tmp_path)
    with built.open_blob("r", sha256(CONFIG)) as chunks:
        assert b"".join(chunks) == CONFIG
    with built.open_blob("r", sha256(CHART)) as chunks:
        assert b"".join(chunks) == CHART
    assert built.read_blob("r", sha256(CHART), len(CHART)) == CHART
    with pytest.raises(NotFoundError), built.open_blob("r", sha256(b"another blob")):
        pass


def test_a_blob_file_that_changed_since_it_was_built_is_refused_when_read_whole(tmp_path: Path) -> None:
    built, archive = _built(tmp_path)
    archive.write_bytes(CHART[:-1] + b"!")
    with pytest.raises(DigestMismatchError) as refused:
        built.read_blob("r", sha256(CHART), len(CHART))
    assert str(refused.value).startswith(f"blob {sha256(CHART)} of the built artifact does not match its digest")
