"""provider_helper/mirror/ngc.py: NGC resources as content for the copy engine, and ``resources pull``: a pushed
version back into ``DEST/<name>_v<version>/`` (README: "nvcf-mirror resources pull --target … --dest ./ngc
# inside the air gap"), every layer checked against its digest before its file takes its name, and nothing but
what ``resources download --push`` stored is taken."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_helper.artifacts import Artifact, ResourceRef
from provider_helper.content.built import BuiltArtifact
from provider_helper.errors import DigestMismatchError, RegistryError
from provider_helper.mirror.ngc import pull, resource_payload
from provider_helper.mirror.plan import Job
from provider_helper.oci.manifest import OCI_MANIFEST, Manifest
from provider_helper.oci.reference import Reference

REF = ResourceRef("0833294136851237", "nvcf-onprem", "nvcf-base", "0.1.4")
FILES = {"nvcf-base-0.1.4.tar.gz": b"the chart values", "docs/README.md": b"how to"}


class _Pushed(BuiltArtifact):
    """A registry holding one artifact under any tag (what ``download --push`` left at the target); with
    ``corrupt``, the blob of that title answers other bytes."""

    def __init__(self, built: BuiltArtifact, corrupt: str | None = None) -> None:
        super().__init__(built.manifest, built._blobs)
        self.corrupt = corrupt

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        return self.manifest

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        titles = {b.digest: b.annotations.get("org.opencontainers.image.title") for b in self.manifest.blobs}
        if self.corrupt is not None and titles.get(digest) == self.corrupt:
            yield iter((b"tampered bytes",))
            return
        with super().open_blob(repo, digest) as chunks:
            yield chunks


def _job() -> Job:
    artifact = Artifact(type="resource", group="deployment-resources", name="nvcf-base", where="test", resource=REF)
    return Job(artifact, Reference("registry.internal", "nvcf-self-hosted/nvcf-base", tag="0.1.4"), None, None)


def _pushed(tmp_path: Path) -> BuiltArtifact:
    folder = tmp_path / "downloaded" / "nvcf-base_v0.1.4"
    written = []
    for name, data in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        written.append(folder / name)
    payload = resource_payload(REF, folder, written)
    store = payload.source
    assert isinstance(store, BuiltArtifact)
    return store


def test_a_downloaded_version_is_a_ready_payload_of_one_layer_per_file(tmp_path: Path) -> None:
    built = _pushed(tmp_path)
    assert [b.annotations.get("org.opencontainers.image.title") for b in built.manifest.blobs[1:]] == sorted(FILES)


def test_pull_writes_each_file_back_under_name_v_version_at_its_path(tmp_path: Path) -> None:
    written = pull(_Pushed(_pushed(tmp_path)), _job(), tmp_path / "ngc")
    folder = tmp_path / "ngc" / "nvcf-base_v0.1.4"
    assert sorted(written) == sorted(folder / name for name in FILES)
    assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in written} == FILES


def test_a_layer_whose_bytes_do_not_match_its_digest_writes_no_file(tmp_path: Path) -> None:
    with pytest.raises(DigestMismatchError):
        pull(_Pushed(_pushed(tmp_path), corrupt="docs/README.md"), _job(), tmp_path / "ngc")
    folder = tmp_path / "ngc" / "nvcf-base_v0.1.4"
    assert not (folder / "docs" / "README.md").exists()
    assert [p.name for p in folder.rglob("*") if p.is_file() and p.name != "nvcf-base-0.1.4.tar.gz"] == [], (
        "no partial file is left behind"
    )


def test_pull_takes_only_an_artifact_resources_download_push_stored(tmp_path: Path) -> None:
    image = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "0" * 64, "size": 2},
        "layers": [],
    }
    manifest = Manifest.from_bytes(json.dumps(image).encode(), OCI_MANIFEST)
    with pytest.raises(RegistryError) as refused:
        pull(_Pushed(BuiltArtifact(manifest, {})), _job(), tmp_path / "ngc")
    assert str(refused.value) == (
        "registry.internal/nvcf-self-hosted/nvcf-base:0.1.4 is not an NGC resource pushed by nvcf-mirror"
    )
    assert not (tmp_path / "ngc").exists()


def test_a_title_leaving_the_version_folder_is_refused(tmp_path: Path) -> None:
    built = _pushed(tmp_path)
    body = json.loads(built.manifest.data)
    body["layers"][0]["annotations"]["org.opencontainers.image.title"] = "../../escaped"
    crafted = Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST)
    with pytest.raises(RegistryError, match="outside the resource"):
        pull(_Pushed(BuiltArtifact(crafted, built._blobs)), _job(), tmp_path / "ngc")
    assert not (tmp_path / "escaped").exists()
