"""Units of provider_helper/mirror/layout.py's index.json: a Docker-format image is named by its OCI copy
(provider_helper/oci/ocicopy.py), then by the original (tests/test_airgap.py reads both with real clients)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import readme_text

from provider_helper.content.layout import MAX_INDEX_BYTES, REF_NAME, Layout, read_index
from provider_helper.errors import InputError
from provider_helper.oci.digests import digest_of
from provider_helper.oci.manifest import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Manifest
from provider_helper.oci.ocicopy import COPY_OF

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _docker_image(layout: Layout, seed: str) -> Manifest:
    config, layer = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode(), seed.encode() * 10
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "digest": digest_of(layer), "size": len(layer)}],
    }
    manifest = Manifest.from_bytes(json.dumps(body, indent=3).encode(), DOCKER_MANIFEST)
    layout.put_manifest("app", manifest.digest, manifest)
    return manifest


def _entries(root: Path) -> list[tuple[str, str, str | None]]:
    index = json.loads((root / "index.json").read_text())
    return [(m["mediaType"], m["digest"], m["annotations"].get(COPY_OF)) for m in index["manifests"]]


def test_a_docker_image_is_named_by_its_oci_copy_then_the_original_and_a_re_save_replaces_both(tmp_path: Path) -> None:
    layout = Layout.for_writing(tmp_path)
    first = _docker_image(layout, "a")
    layout.put_manifest("app", "1.0", first)
    (kind, copy_digest, copy_of), original = _entries(tmp_path)
    assert (kind, copy_of) == (OCI_MANIFEST, first.digest) and original == (DOCKER_MANIFEST, first.digest, None)
    copy = json.loads((tmp_path / "blobs" / "sha256" / copy_digest.split(":")[1]).read_bytes())
    assert copy["config"]["digest"] == first.body["config"]["digest"] and copy["layers"][0]["mediaType"].startswith(
        "application/vnd.oci"
    )
    assert layout.tagged("app", "1.0") == first.digest and layout.tags("app") == ["1.0"]
    moved = _docker_image(layout, "b")
    layout.put_manifest("app", "1.0", moved)
    assert [(kind, copy_of) for kind, _, copy_of in _entries(tmp_path)] == [
        (OCI_MANIFEST, moved.digest),
        (DOCKER_MANIFEST, None),
    ]
    assert layout.tagged("app", "1.0") == moved.digest


def test_the_oci_copy_of_a_docker_list_lists_only_the_images_the_layout_holds(tmp_path: Path) -> None:
    layout = Layout.for_writing(tmp_path)
    held = _docker_image(layout, "amd64")
    body = {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [
            {
                "mediaType": DOCKER_MANIFEST,
                "digest": held.digest,
                "size": len(held.data),
                "platform": {"os": "linux", "architecture": "amd64"},
            },
            {
                "mediaType": DOCKER_MANIFEST,
                "digest": "sha256:" + "0" * 64,
                "size": 1,
                "platform": {"os": "linux", "architecture": "arm64"},
            },
        ],
    }
    listed = Manifest.from_bytes(json.dumps(body).encode(), DOCKER_LIST)
    layout.put_manifest("app", "2.0", listed)
    (kind, copy_digest, _), _original = _entries(tmp_path)
    copy = json.loads((tmp_path / "blobs" / "sha256" / copy_digest.split(":")[1]).read_bytes())
    assert kind == OCI_INDEX and [m["platform"]["architecture"] for m in copy["manifests"]] == ["amd64"]
    assert copy["manifests"][0]["mediaType"] == OCI_MANIFEST and copy["manifests"][0]["digest"] != held.digest
    assert json.loads((tmp_path / "index.json").read_text())["manifests"][1]["annotations"] == {REF_NAME: "app:2.0"}


def test_a_resumed_blob_whose_whole_fails_its_digest_is_deleted_and_fetched_again_from_the_start(
    tmp_path: Path,
) -> None:
    """README Air-gapped: "content that fails the check is deleted and fetched again on the next run"
    (here the rest a resumed save was sent does not make up the blob: the partial file goes too)."""
    import os

    import pytest

    from provider_helper.errors import DigestMismatchError
    from provider_helper.oci.digests import verified
    from provider_helper.oci.manifest import Descriptor

    layout = Layout.for_writing(tmp_path)
    data = os.urandom(64_000)
    blob = Descriptor(OCI_MANIFEST, digest_of(data), len(data))
    partial = tmp_path / f".partial-{blob.digest.split(':')[1]}"
    with pytest.raises(DigestMismatchError):  # a save cut off after the first half
        layout.put_blob_from("app", blob, 0, verified([data[:32_000], b"x" * 32_000], blob.digest, blob.size, "blob"))
    assert partial.exists() is False and layout.partial_blob(blob) is None, "a first half that fails: nothing kept"
    partial.write_bytes(data[:32_000])  # what an interrupted save leaves
    held = layout.partial_blob(blob)
    assert held is not None and held[0] == 32_000
    with pytest.raises(DigestMismatchError):
        layout.put_blob_from("app", blob, 32_000, verified([b"y" * 32_000], blob.digest, blob.size, "blob", held=held))
    assert not partial.exists() and layout.partial_blob(blob) is None, "the next run starts it again"
    assert not layout.blob_path(blob.digest).exists()
    layout.put_blob_from("app", blob, 0, verified([data], blob.digest, blob.size, "blob"))
    assert layout.blob_path(blob.digest).read_bytes() == data and not partial.exists()


def test_a_partial_blob_of_another_user_is_not_resumed_but_removed_and_the_blob_saved_from_the_start(
    tmp_path: Path,
) -> None:
    """Review of the upgrades/security merge: a partial blob is resumed only when it is this user's regular
    file; another user's (chowned here, the tests run as root) is removed at once, so the save starts the blob
    again rather than failing it when it finds out on writing."""
    import os

    from provider_helper.oci.digests import verified
    from provider_helper.oci.manifest import Descriptor

    layout = Layout.for_writing(tmp_path)
    data = os.urandom(64_000)
    blob = Descriptor(OCI_MANIFEST, digest_of(data), len(data))
    partial = tmp_path / f".partial-{blob.digest.split(':')[1]}"
    partial.write_bytes(data[:32_000])
    os.chown(partial, os.getuid() + 1, -1)
    assert layout.partial_blob(blob) is None and not partial.exists(), "another user's part is not trusted"
    layout.put_blob_from("app", blob, 0, verified([data], blob.digest, blob.size, "blob"))
    assert layout.blob_path(blob.digest).read_bytes() == data


def _bundle_limits() -> list[int]:
    """The README's "4 MiB / 16 MiB / 1 MiB" for index.json / lock / split checksum list."""
    return [readme_text.size(s) for s in readme_text.limit("a bundle's `index.json` / lock").split(" / ")]


def test_index_json_is_read_up_to_the_4_mib_the_readme_states_and_refused_one_byte_past(tmp_path: Path) -> None:
    """README Limits: "a bundle's `index.json` / lock ... / split checksum list, read before it is parsed |
    4 MiB / 16 MiB / 1 MiB"."""
    limit = _bundle_limits()[0]
    assert limit == MAX_INDEX_BYTES
    head = b'{"schemaVersion": 2, "manifests": []'
    (tmp_path / "index.json").write_bytes(head + b" " * (limit - len(head) - 1) + b"}")
    assert read_index(tmp_path) == {"schemaVersion": 2, "manifests": []}
    (tmp_path / "index.json").write_bytes(head + b" " * (limit - len(head)) + b"}")
    with pytest.raises(InputError, match=f"larger than {limit} bytes"):
        read_index(tmp_path)
