"""What a platform selection of an index resolves to (provider_helper/mirror/resolve.py): the index whole, one
image, or a new index, and the attestation entries buildx attaches. The source is a real OCI layout on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import sha256

from provider_helper.content.layout import Layout
from provider_helper.mirror.resolve import resolve
from provider_helper.oci.manifest import OCI_INDEX, OCI_MANIFEST, Manifest
from provider_helper.oci.reference import parse_platform, parse_reference

ARCHES = ("amd64", "arm64", "ppc64le")


def _manifest(body: dict[str, Any], media_type: str) -> Manifest:
    return Manifest.from_bytes(json.dumps(body).encode(), media_type)


def _source(tmp_path: Path) -> tuple[Layout, Manifest, dict[str, str]]:
    """An index of three images, each with its attestation entry, written with indent as some tools write it (so
    an index rebuilt from the same entries has other bytes). Returns the layout, the index and arch -> digest."""
    layout = Layout.for_writing(tmp_path / "src")
    entries: list[dict[str, Any]] = []
    images: dict[str, str] = {}
    for arch in ARCHES:
        config = json.dumps({"architecture": arch, "os": "linux"}).encode()
        layer = f"layer of {arch}".encode()
        image = _manifest(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha256(config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": sha256(layer),
                        "size": len(layer),
                    }
                ],
            },
            OCI_MANIFEST,
        )
        statement = f"provenance of {arch}".encode()
        attestation = _manifest(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(b"{}"), "size": 2},
                "layers": [
                    {"mediaType": "application/vnd.in-toto+json", "digest": sha256(statement), "size": len(statement)}
                ],
            },
            OCI_MANIFEST,
        )
        for manifest in (image, attestation):
            layout.put_manifest("nvidia/multi", manifest.digest, manifest)
        images[arch] = image.digest
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": image.digest,
                "size": len(image.data),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": attestation.digest,
                "size": len(attestation.data),
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": image.digest,
                },
            }
        )
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    index = Manifest.from_bytes(json.dumps(body, indent=3).encode(), OCI_INDEX)
    layout.put_manifest("nvidia/multi", "1.0", index)
    return layout, index, images


REF = parse_reference("nvcr.io/nvidia/multi:1.0")


def test_platforms_that_name_every_image_of_an_index_keep_it_byte_for_byte_with_its_attestations(
    tmp_path: Path,
) -> None:
    """README Signatures: "Several platforms ... that name every image platform of an index keep the index as it
    is, byte for byte, with its attestation entries"."""
    layout, index, _ = _source(tmp_path)
    every = tuple(parse_platform(f"linux/{arch}") for arch in reversed(ARCHES))
    resolved = resolve(layout, REF, every)
    assert resolved.digest == index.digest and resolved.cut_from is None and resolved.note is None
    selection = resolved.materialize()
    assert selection.top.data == index.data
    assert len(selection.children) == 6, "the three images and their three attestations"


def test_a_subset_of_platforms_keeps_the_attestations_of_the_images_it_keeps(tmp_path: Path) -> None:
    """README Signatures: attestation entries "are not platforms: they are kept with the images they describe"."""
    layout, index, images = _source(tmp_path)
    resolved = resolve(layout, REF, (parse_platform("linux/arm64"), parse_platform("linux/amd64")))
    assert resolved.digest != index.digest and resolved.cut_from == index.digest
    kept = resolved.materialize().top.body["manifests"]
    described = [e["annotations"]["vnd.docker.reference.digest"] for e in kept if "annotations" in e]
    assert [e["digest"] for e in kept if "annotations" not in e] == [images["amd64"], images["arm64"]]
    assert described == [images["amd64"], images["arm64"]], "each kept image's attestation, ppc64le's left out"
