"""One NGC resource version as a read-only content store (``content.store.Reader``): the version's
files (``ngc_api`` downloads them) as one OCI artifact, one layer per file, titled with its path."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from provider_helper.artifacts import ResourceRef
from provider_helper.content.built import BuiltArtifact
from provider_helper.content.store import Reader
from provider_helper.errors import InputError, NotFoundError, RegistryError
from provider_helper.ngc_api import NgcClient, version_dir
from provider_helper.oci.digests import digest_of, file_digest
from provider_helper.oci.manifest import OCI_MANIFEST, Descriptor, Manifest

SOURCE = "org.opencontainers.image.source"
ARTIFACT_TYPE = "application/vnd.nvidia.ngc.resource.v1"
EMPTY_CONFIG = b"{}"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
FILE_LAYER = "application/octet-stream"
TITLE = "org.opencontainers.image.title"


def resource_artifact(ref: ResourceRef, folder: Path, files: list[Path]) -> BuiltArtifact:
    """``files``: the files NGC listed for the version that this run downloaded, and nothing else that
    is in the folder; each must still be a regular file (a link put in their place is refused)."""
    files = sorted(files)
    for path in files:
        if not stat.S_ISREG(path.lstat().st_mode):
            raise InputError(f"{path}: not a regular file (a link or other file was put in place of the download)")
    if not files:
        raise RegistryError(f"{folder}: no files to push for {ref}")
    layers: list[dict[str, Any]] = []
    blobs: dict[str, bytes | Path] = {digest_of(EMPTY_CONFIG): EMPTY_CONFIG}
    for path in files:
        digest, size = file_digest(path)
        blobs[digest] = path
        layers.append(
            {
                "mediaType": FILE_LAYER,
                "digest": digest,
                "size": size,
                "annotations": {TITLE: path.relative_to(folder).as_posix()},
            }
        )
    config = {
        "mediaType": EMPTY_CONFIG_TYPE,
        "digest": digest_of(EMPTY_CONFIG),
        "size": len(EMPTY_CONFIG),
        "data": "e30=",
    }
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": config,
        "layers": layers,
        "annotations": {"org.opencontainers.image.version": str(ref.version), SOURCE: f"ngc:{ref}"},
    }
    manifest = Manifest.from_bytes(json.dumps(body, separators=(",", ":")).encode(), OCI_MANIFEST)
    return BuiltArtifact(manifest, blobs)


class ResourceVersion:
    """One NGC resource version as a read-only store. Its digest is known only once its files are
    downloaded (``materialize``), so at the target it is recognised by the source it was pushed from;
    until then there is nothing to read."""

    def __init__(self, client: NgcClient, ref: ResourceRef, scratch: Callable[[], Path]) -> None:
        """``scratch``: the run's download folder, made when a resource is first downloaded."""
        self.client, self.ref, self.scratch = client, ref, scratch
        self._built: BuiltArtifact | None = None

    def materialize(self) -> Manifest:
        """Download the version's files and build its artifact: the manifest the target gets."""
        scratch = self.scratch()
        files = self.client.download(self.ref, scratch)
        self._built = resource_artifact(self.ref, scratch / version_dir(self.ref), files)
        return self._built.manifest

    def matches(self, manifest: Manifest) -> bool:
        return (
            manifest.body.get("artifactType") == ARTIFACT_TYPE
            and (manifest.body.get("annotations") or {}).get(SOURCE) == f"ngc:{self.ref}"
        )

    # -- the store calls, answered by the downloaded version --

    def _downloaded(self) -> BuiltArtifact:
        if self._built is None:
            raise NotFoundError(f"NGC resource {self.ref} is not downloaded yet")
        return self._built

    def head_manifest(self, repo: str, reference: str) -> str | None:
        return self._downloaded().head_manifest(repo, reference)

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        return self._downloaded().get_manifest(repo, reference)

    def tags(self, repo: str) -> list[str]:
        return self._downloaded().tags(repo)

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        return self._downloaded().list_referrers(repo, digest)

    def open_blob(self, repo: str, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        return self._downloaded().open_blob(repo, digest)

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        return self._downloaded().read_blob(repo, digest, max_bytes)


_CHECKED: type[Reader] = ResourceVersion  # mypy checks the class against the protocol here
