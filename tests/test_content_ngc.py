"""provider_helper/content/ngc.py: an NGC resource version as an OCI artifact (README: "--push stores each
version as an OCI artifact {prefix}/{name}:{version} (one layer per file, titled with its path)"), recognised
at the target by the source it was pushed from, and a read-only store of it once downloaded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import sha256

from provider_helper.artifacts import ResourceRef
from provider_helper.content.ngc import (
    ARTIFACT_TYPE,
    EMPTY_CONFIG_TYPE,
    FILE_LAYER,
    TITLE,
    ResourceVersion,
    resource_artifact,
)
from provider_helper.errors import InputError, NotFoundError, RegistryError
from provider_helper.oci.manifest import OCI_MANIFEST

REF = ResourceRef("0833294136851237", "nvcf-onprem", "nvcf-cli", "0.0.22")


def _version(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, list[Path]]:
    folder = tmp_path / "nvcf-cli_v0.0.22"
    written = []
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return folder, written


def test_one_layer_per_file_titled_with_its_path_in_the_version(tmp_path: Path) -> None:
    files = {
        "linux-amd64/nvcf-cli-linux-amd64-0.0.22.tar.gz": b"amd64 build",
        "linux-arm64/nvcf-cli-linux-arm64-0.0.22.tar.gz": b"arm64 build",
        "README.md": b"read me",
    }
    folder, written = _version(tmp_path, files)
    built = resource_artifact(REF, folder, list(reversed(written)))
    body = json.loads(built.manifest.data)
    assert body["mediaType"] == OCI_MANIFEST and body["artifactType"] == ARTIFACT_TYPE
    assert [layer["annotations"][TITLE] for layer in body["layers"]] == sorted(files), "by path, whatever the order"
    for layer in body["layers"]:
        data = files[layer["annotations"][TITLE]]
        assert (layer["mediaType"], layer["digest"], layer["size"]) == (FILE_LAYER, sha256(data), len(data))
    assert body["annotations"] == {
        "org.opencontainers.image.version": "0.0.22",
        "org.opencontainers.image.source": "ngc:0833294136851237/nvcf-onprem/nvcf-cli:0.0.22",
    }
    assert body["config"] == {"mediaType": EMPTY_CONFIG_TYPE, "digest": sha256(b"{}"), "size": 2, "data": "e30="}


def test_the_same_files_make_the_same_digest(tmp_path: Path) -> None:
    """A re-run finds the version present: nothing of the run (time, order) enters the manifest."""
    folder, written = _version(tmp_path / "a", {"a": b"1", "b/c": b"2"})
    again_folder, again = _version(tmp_path / "b", {"b/c": b"2", "a": b"1"})
    assert (
        resource_artifact(REF, folder, written).manifest.digest
        == resource_artifact(REF, again_folder, again).manifest.digest
    )


def test_a_link_put_in_place_of_a_download_is_refused(tmp_path: Path) -> None:
    folder, written = _version(tmp_path, {"values.yaml": b"x"})
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for the registry")
    written[0].unlink()
    os.symlink(secret, written[0])
    with pytest.raises(InputError) as refused:
        resource_artifact(REF, folder, written)
    assert str(refused.value) == (
        f"{written[0]}: not a regular file (a link or other file was put in place of the download)"
    )


def test_a_version_without_files_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as refused:
        resource_artifact(REF, tmp_path, [])
    assert str(refused.value) == f"{tmp_path}: no files to push for {REF}"


def test_the_target_copy_is_recognised_by_the_source_it_was_pushed_from(tmp_path: Path) -> None:
    folder, written = _version(tmp_path, {"f": b"1"})
    manifest = resource_artifact(REF, folder, written).manifest
    version = ResourceVersion(None, REF, lambda: tmp_path)  # type: ignore[arg-type]
    assert version.matches(manifest)
    other = ResourceVersion(None, ResourceRef(REF.org, REF.team, REF.name, "0.0.21"), lambda: tmp_path)  # type: ignore[arg-type]
    assert not other.matches(manifest), "another version of the resource is not this one"


def test_nothing_is_read_before_the_version_is_downloaded(tmp_path: Path) -> None:
    version = ResourceVersion(None, REF, lambda: tmp_path)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError) as missing:
        version.get_manifest("p/nvcf-cli", "0.0.22")
    assert str(missing.value) == f"NGC resource {REF} is not downloaded yet"
