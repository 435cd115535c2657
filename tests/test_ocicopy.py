"""The OCI copy of a Docker-format image that a saved layout names first (provider_helper/oci/ocicopy.py)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import sha256

from provider_helper.content.layout import Layout
from provider_helper.oci.manifest import DOCKER_MANIFEST, OCI_MANIFEST, Manifest
from provider_helper.oci.ocicopy import oci_copy

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _docker_image() -> Manifest:
    config, layer = b'{"architecture":"amd64","os":"linux"}', b"layer bytes"
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "digest": sha256(layer), "size": len(layer)}],
    }
    return Manifest.from_bytes(json.dumps(body).encode(), DOCKER_MANIFEST)


def test_the_oci_copy_keeps_the_blobs_under_oci_media_types() -> None:
    """README: "an OCI copy, as skopeo copy into an OCI layout writes one (the same config and layer blobs under
    OCI media types, a new manifest and so another digest ...)"."""
    original = _docker_image()
    (copy,) = oci_copy(original, lambda digest: None)
    assert copy.media_type == OCI_MANIFEST and copy.digest != original.digest
    assert copy.body["config"] == {**original.body["config"], "mediaType": "application/vnd.oci.image.config.v1+json"}
    assert [layer["digest"] for layer in copy.body["layers"]] == [original.body["layers"][0]["digest"]]
    assert copy.body["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"


def test_a_layouts_oci_copy_is_named_first_and_annotated_with_the_originals_digest(tmp_path: Path) -> None:
    """README What reads a saved bundle: "named twice under its name:tag: first by an OCI copy ... annotated
    io.github.nvcf-mirror.oci-copy-of with the original's digest, then by the original"."""
    original = _docker_image()
    layout = Layout.for_writing(tmp_path)
    layout.put_manifest("nvidia/app", "1.0", original)
    entries = json.loads((tmp_path / "index.json").read_text())["manifests"]
    name = "org.opencontainers.image.ref.name"
    assert [(e["mediaType"], e["annotations"]) for e in entries] == [
        (OCI_MANIFEST, {name: "nvidia/app:1.0", "io.github.nvcf-mirror.oci-copy-of": original.digest}),
        (DOCKER_MANIFEST, {name: "nvidia/app:1.0"}),
    ]
    assert (tmp_path / "blobs" / "sha256" / entries[0]["digest"].split(":")[1]).is_file()
    assert layout.tagged("nvidia/app", "1.0") == original.digest, "the tool itself reads the original"
