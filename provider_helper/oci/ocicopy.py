"""An OCI-typed copy of a Docker-format image, for the readers of a saved layout that take only OCI.

containers/image (skopeo, podman, buildah) finds a layout's ``name:tag`` only among ``index.json``
entries whose media type is an OCI manifest or index; a Docker manifest or list there is "no descriptor
found". So a layout names a Docker-format image twice under one ``ref.name``: first this copy, then the
original. The copy is what skopeo itself writes when it copies a Docker image into an OCI layout: the
same config and layer blobs under OCI media types, in a new manifest (so a new digest). Readers that take
Docker entries (``ctr images import``, ``nvcf-mirror load``) use the original, the entry written last, and
get the source's exact digest; the copy is marked with ``COPY_OF`` so that the tool itself skips it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from provider_helper.oci.manifest import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Manifest

# The annotation on a copy's index.json entry: the digest of the Docker-format original it stands for.
COPY_OF = "io.github.nvcf-mirror.oci-copy-of"
OCI_MEDIA_TYPES = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_LIST: OCI_INDEX,
    "application/vnd.docker.container.image.v1+json": "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    ),
}


def needs_copy(manifest: Manifest) -> bool:
    return manifest.media_type in (DOCKER_MANIFEST, DOCKER_LIST)


def oci_copy(manifest: Manifest, child: Callable[[str], Manifest | None]) -> list[Manifest]:
    """The OCI copy of ``manifest``: for a list, each child the layout holds (``child(digest)``, None when
    absent, as a platform selection leaves out) converted, then the index over them; the top comes last."""
    if manifest.media_type == DOCKER_MANIFEST:
        return [_manifest(manifest)]
    copies: list[Manifest] = []
    entries: list[dict[str, Any]] = []
    for entry in manifest.body.get("manifests") or []:
        held = child(str(entry.get("digest")))
        if held is None:
            continue
        converted = _manifest(held) if held.media_type == DOCKER_MANIFEST else held
        copies.append(converted)
        entries.append(
            {**entry, "mediaType": converted.media_type, "digest": converted.digest, "size": len(converted.data)}
        )
    body = {**manifest.body, "mediaType": OCI_INDEX, "manifests": entries}
    return [*copies, _encoded(body, OCI_INDEX)]


def _manifest(manifest: Manifest) -> Manifest:
    body = dict(manifest.body)
    body["mediaType"] = OCI_MANIFEST
    body["config"] = _retyped(body.get("config") or {})
    body["layers"] = [_retyped(layer) for layer in body.get("layers") or []]
    return _encoded(body, OCI_MANIFEST)


def _retyped(descriptor: dict[str, Any]) -> dict[str, Any]:
    media_type = descriptor.get("mediaType")
    return {**descriptor, "mediaType": OCI_MEDIA_TYPES.get(str(media_type), media_type)}


def _encoded(body: dict[str, Any], media_type: str) -> Manifest:
    return Manifest.from_bytes(json.dumps(body, separators=(",", ":")).encode(), media_type)
