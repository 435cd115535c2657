"""NGC resources (nvcf-base, nvcf-self-managed-stack, nvcf-cli) as content for the copy engine.

A downloaded version (``ngc_api``) is a store of one OCI artifact (``content.ngc``): one layer per
file, titled with its path; ``resources pull`` turns it back into files, verified.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from provider_helper.artifacts import ResourceRef
from provider_helper.content.ngc import ARTIFACT_TYPE, TITLE, ResourceVersion, resource_artifact
from provider_helper.content.store import Reader
from provider_helper.errors import RegistryError
from provider_helper.fsutil import own_folder, private_temp
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved, Selection
from provider_helper.mirror.sources import Payload
from provider_helper.ngc_api import NgcClient, safe_relative, version_dir
from provider_helper.oci.digests import verified


def resource_payload(ref: ResourceRef, folder: Path, files: list[Path]) -> Payload:
    """A downloaded version as an OCI artifact: one layer per file, titled with its path."""
    built = resource_artifact(ref, folder, files)
    return Payload.ready(Selection(built.manifest, [], []), built)


class ResourcePayloads:
    """NGC resources for the copy engine (mirror, save): downloaded only when the target lacks them,
    into the folder ``scratch`` makes on first use, and recognised at the target by the source they
    were pushed from."""

    def __init__(self, connect: Callable[[], NgcClient], scratch: Callable[[], Path]) -> None:
        """``connect``: the run's NGC client, made when a resource is first needed; ``scratch`` likewise
        the folder, so a run that downloads nothing (or is killed) leaves no folder behind."""
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
        materialize = lambda: Selection(version.materialize(), [], [])  # noqa: E731
        return Payload(lambda: Resolved(None, [], None, materialize, version.matches), version, "", attached=False)


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
