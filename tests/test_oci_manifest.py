"""provider_helper/oci/manifest.py: manifests kept as their exact bytes (pushing the bytes fetched is what keeps
digests equal), verified against the digest they were fetched by; media types from the body, else the answer's
header, else the shape; an index's children and an image's blobs (config first, then layers); descriptors
checked by the digest grammar and written back as they were read. (tests/test_manifest.py holds the NVCF
manifest file, provider_helper/manifest.py.)"""

from __future__ import annotations

import hashlib
import json

import pytest

from provider_helper.errors import DigestMismatchError, RegistryError
from provider_helper.oci.manifest import (
    ACCEPT,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
)
from provider_helper.oci.reference import Platform

D1, D2, D3 = ("sha256:" + hashlib.sha256(n).hexdigest() for n in (b"1", b"2", b"3"))
IMAGE = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D1, "size": 10},
    "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 20},
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D3, "size": 30},
    ],
}


def test_a_manifest_is_kept_as_its_exact_bytes_and_their_digest() -> None:
    data = json.dumps(IMAGE, indent=3).encode()  # not how json.dumps would write it back
    manifest = Manifest.from_bytes(data, None)
    assert manifest.data == data and manifest.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert Manifest.from_bytes(data, None, manifest.digest).digest == manifest.digest
    with pytest.raises(DigestMismatchError) as wrong:
        Manifest.from_bytes(data + b" ", None, manifest.digest)
    assert str(wrong.value).endswith(f", expected {manifest.digest}")


def test_a_sha512_digest_reference_is_verified_in_sha512() -> None:
    data = json.dumps(IMAGE).encode()
    expected = "sha512:" + hashlib.sha512(data).hexdigest()
    assert Manifest.from_bytes(data, OCI_MANIFEST, expected).digest == expected


def test_an_image_lists_its_config_first_then_its_layers_and_has_no_children() -> None:
    manifest = Manifest.from_bytes(json.dumps(IMAGE).encode(), OCI_MANIFEST)
    assert [b.digest for b in manifest.blobs] == [D1, D2, D3]
    assert manifest.children == () and not manifest.is_index and manifest.is_image


def test_an_index_lists_its_children_with_their_platforms_and_has_no_blobs() -> None:
    body = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": D1, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
            {
                "mediaType": OCI_MANIFEST,
                "digest": D2,
                "size": 2,
                "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
            },
            {
                "mediaType": OCI_MANIFEST,
                "digest": D3,
                "size": 3,
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.digest": D1, "vnd.docker.reference.type": "attestation-manifest"},
            },
        ],
    }
    index = Manifest.from_bytes(json.dumps(body).encode(), None)
    assert index.media_type == OCI_INDEX and index.is_index and index.blobs == ()
    assert [c.platform for c in index.children] == [
        Platform("linux", "amd64"),
        Platform("linux", "arm64", "v8"),
        Platform("unknown", "unknown"),
    ]
    assert [c.is_attestation for c in index.children] == [False, False, True]


@pytest.mark.parametrize(
    ("body", "header", "kind"),
    [
        ({"mediaType": DOCKER_MANIFEST, "config": {}}, OCI_MANIFEST, DOCKER_MANIFEST),  # the body says
        ({"manifests": []}, f"{DOCKER_LIST}; charset=utf-8", DOCKER_LIST),  # else the answer's header
        ({"manifests": []}, None, OCI_INDEX),  # else the shape
        ({"layers": []}, "", OCI_MANIFEST),
    ],
    ids=["body", "header", "index-shape", "manifest-shape"],
)
def test_the_media_type_comes_from_the_body_else_the_header_else_the_shape(
    body: dict[str, object], header: str | None, kind: str
) -> None:
    assert Manifest.from_bytes(json.dumps(body).encode(), header).media_type == kind


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"not json", "manifest is not valid JSON"), (b"[1, 2]", "manifest is not a JSON object")],
)
def test_content_that_is_not_a_manifest_is_refused_in_one_line(data: bytes, line: str) -> None:
    with pytest.raises(RegistryError) as refused:
        Manifest.from_bytes(data, OCI_MANIFEST)
    assert str(refused.value) == line


def test_a_descriptor_is_checked_by_the_digest_grammar_and_written_back_as_read() -> None:
    raw = {
        "mediaType": OCI_MANIFEST,
        "digest": D1,
        "size": 7,
        "artifactType": "application/spdx+json",
        "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
    }
    assert Descriptor.from_json(raw).as_json() == raw
    with pytest.raises(RegistryError) as refused:
        Descriptor.from_json({**raw, "digest": D1.upper()})
    assert "in a manifest descriptor" in str(refused.value)
    with pytest.raises(RegistryError) as malformed:
        Descriptor.from_json({"mediaType": OCI_MANIFEST, "digest": D1})
    assert str(malformed.value).startswith("malformed descriptor in manifest")


def test_the_accept_header_asks_for_indexes_and_manifests_of_both_formats() -> None:
    assert ACCEPT.split(", ") == [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST]
