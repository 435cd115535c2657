"""What a platform selection of an index resolves to (provider_helper/mirror/resolve.py): the index whole, one
image, or a new index, and the attestation entries buildx attaches. The source is a real OCI layout on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import sha256
from test_engine import MemoryStore, _image

from provider_helper.content.layout import Layout
from provider_helper.errors import PlatformMismatchError
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


def test_without_a_platform_choice_the_index_is_kept_whole_and_signs_every_entry(tmp_path: Path) -> None:
    layout, index, _ = _source(tmp_path)
    resolved = resolve(layout, REF, None)
    assert resolved.digest == index.digest and resolved.note is None and resolved.cut_from is None
    assert resolved.platforms == [f"linux/{arch}" for arch in ARCHES]
    assert resolved.signed == (index.digest, *(d.digest for d in index.children))


def test_one_platform_resolves_to_its_image_manifest_cut_from_the_index(tmp_path: Path) -> None:
    layout, index, images = _source(tmp_path)
    resolved = resolve(layout, REF, (parse_platform("linux/arm64"),))
    assert resolved.digest == images["arm64"] and resolved.note is None
    assert resolved.cut_from == index.digest and resolved.signed == (images["arm64"],)
    assert resolved.platforms == ["linux/arm64"]


def test_a_true_subset_gets_a_new_index_and_the_note_saying_its_digest_differs(tmp_path: Path) -> None:
    layout, index, _ = _source(tmp_path)
    resolved = resolve(layout, REF, (parse_platform("linux/amd64"), parse_platform("linux/ppc64le")))
    assert resolved.digest != index.digest and resolved.cut_from == index.digest
    assert resolved.note == (
        f"new index for linux/amd64, linux/ppc64le: its digest differs from the source index {index.digest}"
    )


def test_a_platform_the_index_lacks_is_one_line_naming_what_it_has(tmp_path: Path) -> None:
    layout, _, _ = _source(tmp_path)
    with pytest.raises(PlatformMismatchError) as refused:
        resolve(layout, REF, (parse_platform("linux/s390x"),))
    assert str(refused.value) == "the source has no linux/s390x image (it has: linux/amd64, linux/arm64, linux/ppc64le)"


def test_the_same_platform_named_twice_picks_its_image_once(tmp_path: Path) -> None:
    layout, _, images = _source(tmp_path)
    resolved = resolve(layout, REF, (parse_platform("linux/arm64"), parse_platform("linux/arm64/v8")))
    assert resolved.digest == images["arm64"] and resolved.platforms == ["linux/arm64"]


def test_a_single_image_of_another_architecture_is_refused_in_the_documented_words() -> None:
    source = MemoryStore()
    image, blobs = _image(b"base", b"own")  # a linux/amd64 image
    source.blobs["org/app"] = blobs
    source.manifests[("org/app", "1.0")] = image
    ref = parse_reference("nvcr.io/org/app:1.0")
    resolved = resolve(source, ref, (parse_platform("linux/arm64"),))
    assert resolved.digest == image.digest and resolved.check_platform is not None
    with pytest.raises(PlatformMismatchError) as refused:
        resolved.check_platform()
    assert (
        str(refused.value) == "linux/amd64 image where linux/arm64 is expected: pods would fail with exec format error"
    )
    assert resolve(source, ref, (parse_platform("linux/amd64"),)).materialize().platforms == ["linux/amd64"]
    shown = resolve(source, ref, None).check_platform
    assert shown is not None and shown() == ["linux/amd64"], "with --all-platforms plan still shows its platform"
