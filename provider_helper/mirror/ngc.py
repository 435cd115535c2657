"""NGC resources (nvcf-base, nvcf-self-managed-stack, nvcf-cli) as content for the copy engine.

A downloaded version (``ngc_api``) becomes an OCI artifact: one layer per file, titled with its
path; ``resources pull`` turns it back into files, verified.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provider_helper.content.built import BuiltArtifact
from provider_helper.content.digests import verified
from provider_helper.content.store import Reader
from provider_helper.errors import InputError, RegistryError
from provider_helper.fsutil import own_folder, private_temp
from provider_helper.manifest import ResourceRef
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved, Selection
from provider_helper.mirror.sources import Payload
from provider_helper.ngc_api import NgcClient, safe_relative, version_dir
from provider_helper.registry.oci import OCI_MANIFEST, Manifest, digest_of, file_digest

SOURCE = "org.opencontainers.image.source"
ARTIFACT_TYPE = "application/vnd.nvidia.ngc.resource.v1"
EMPTY_CONFIG = b"{}"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
FILE_LAYER = "application/octet-stream"
TITLE = "org.opencontainers.image.title"


def resource_payload(ref: ResourceRef, folder: Path, files: list[Path]) -> Payload:
    """A downloaded version as an OCI artifact: one layer per file, titled with its path."""
    built = resource_artifact(ref, folder, files)
    return Payload.ready(Selection(built.manifest, [], []), built)


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
        layers.append({"mediaType": FILE_LAYER, "digest": digest, "size": size, "annotations": {TITLE: path.relative_to(folder).as_posix()}})
    config = {"mediaType": EMPTY_CONFIG_TYPE, "digest": digest_of(EMPTY_CONFIG), "size": len(EMPTY_CONFIG), "data": "e30="}
    body = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE, "config": config, "layers": layers,
        "annotations": {"org.opencontainers.image.version": str(ref.version), SOURCE: f"ngc:{ref}"},
    }
    manifest = Manifest.from_bytes(json.dumps(body, separators=(",", ":")).encode(), OCI_MANIFEST)
    return BuiltArtifact(manifest, blobs)


class ResourcePayloads:
    """NGC resources for the copy engine (mirror, save): downloaded only when the target lacks them,
    into ``scratch``, and recognised at the target by the source they were pushed from."""

    def __init__(self, connect: Callable[[], NgcClient], scratch: Path) -> None:
        """``connect``: the run's NGC client, made when a resource is first needed."""
        self.connect, self.scratch = connect, scratch

    @functools.cached_property
    def client(self) -> NgcClient:
        return self.connect()

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()

    def payload(self, job: Job) -> Payload:
        ref = job.artifact.resource
        assert ref is not None
        version = ResourceVersion(self.client, ref, self.scratch)
        return Payload(lambda: Resolved(None, [], None, version.materialize, version.matches), version, "", attached=False)


class ResourceVersion:
    """One NGC resource version as a read-only store. Its digest is known only once its files are
    downloaded (``materialize``), so at the target it is recognised by the source it was pushed from;
    until then there is nothing to read."""

    def __init__(self, client: NgcClient, ref: ResourceRef, scratch: Path) -> None:
        self.client, self.ref, self.scratch = client, ref, scratch
        self._built: BuiltArtifact | None = None

    def materialize(self) -> Selection:
        files = self.client.download(self.ref, self.scratch)
        self._built = resource_artifact(self.ref, self.scratch / version_dir(self.ref), files)
        return Selection(self._built.manifest, [], [])

    def matches(self, manifest: Manifest) -> bool:
        return manifest.body.get("artifactType") == ARTIFACT_TYPE and (manifest.body.get("annotations") or {}).get(SOURCE) == f"ngc:{self.ref}"

    def __getattr__(self, name: str) -> Any:
        """The store calls (``content.store.Reader``), answered by the downloaded version."""
        if name.startswith("_") or self._built is None:
            raise AttributeError(name)
        return getattr(self._built, name)


def pull(client: Reader, job: Job, dest: Path) -> list[Path]:
    """``resources pull``: a pushed resource version back into ``dest/<name>_v<version>/``, verified."""
    ref = job.artifact.resource
    assert ref is not None
    manifest = client.get_manifest(job.target.repository, job.target.reference)
    if manifest.body.get("artifactType") != ARTIFACT_TYPE:
        raise RegistryError(f"{job.target} is not an NGC resource pushed by nvcf-mirror")
    folder = dest / version_dir(ref)
    written = []
    for layer in manifest.blobs[1:]:
        relative = safe_relative(layer.annotations.get(TITLE, ""))
        path = own_folder(folder.parent, (folder.name, *relative.parent.parts)) / relative.name
        temp, out = private_temp(path)
        try:
            with client.open_blob(job.target.repository, layer.digest) as chunks, out:
                for chunk in verified(chunks, layer.digest, layer.size, f"{job.target}: {relative}"):
                    out.write(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        os.replace(temp, path)
        written.append(path)
    return written
