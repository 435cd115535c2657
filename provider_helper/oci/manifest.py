"""Manifest and descriptor values as they travel between registries.

A manifest is kept as its exact bytes: pushing the bytes we fetched is what keeps digests equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from provider_helper.errors import DigestMismatchError, RegistryError
from provider_helper.oci.digests import checked_digest, digest_of
from provider_helper.oci.reference import Platform

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
ATTESTATION_REF = "vnd.docker.reference.digest"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    artifact_type: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Descriptor:
        try:
            plat = raw.get("platform")
            platform = Platform(plat["os"], plat["architecture"], plat.get("variant") or None) if plat else None
            return cls(
                media_type=raw.get("mediaType", ""),
                digest=checked_digest(raw["digest"], "a manifest descriptor"),
                size=int(raw["size"]),
                platform=platform,
                annotations=dict(raw.get("annotations") or {}),
                artifact_type=raw.get("artifactType"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"malformed descriptor in manifest: {exc}") from None

    def as_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            raw["artifactType"] = self.artifact_type
        if self.platform:
            raw["platform"] = {
                "os": self.platform.os,
                "architecture": self.platform.architecture,
                **({"variant": self.platform.variant} if self.platform.variant else {}),
            }
        if self.annotations:
            raw["annotations"] = self.annotations
        return raw

    @property
    def is_attestation(self) -> bool:
        """buildx attaches provenance as an ``unknown/unknown`` child that references its image."""
        return ATTESTATION_REF in self.annotations


@dataclass(frozen=True)
class Manifest:
    """The exact bytes of a manifest or index, with its media type and digest."""

    data: bytes
    media_type: str
    digest: str
    body: dict[str, Any] = field(compare=False, repr=False)  # ``data`` parsed, once

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None, expected_digest: str | None = None) -> Manifest:
        """Verify ``data`` against ``expected_digest`` (when known) and work out the media type."""
        digest = digest_of(data, expected_digest or "sha256:")
        if expected_digest and digest != expected_digest:
            raise DigestMismatchError(f"manifest content hashes to {digest}, expected {expected_digest}")
        try:
            body = json.loads(data)
        except ValueError:
            raise RegistryError("manifest is not valid JSON") from None
        if not isinstance(body, dict):
            raise RegistryError("manifest is not a JSON object")
        declared = body.get("mediaType")
        kind = declared or (media_type or "").split(";")[0].strip()
        if not kind:
            kind = OCI_INDEX if "manifests" in body else OCI_MANIFEST
        return cls(data=data, media_type=kind, digest=digest, body=body)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @cached_property
    def children(self) -> tuple[Descriptor, ...]:
        """The manifests an index points at (empty for an image manifest)."""
        return tuple(Descriptor.from_json(d) for d in self.body.get("manifests") or ()) if self.is_index else ()

    @cached_property
    def config(self) -> Descriptor | None:
        raw = self.body.get("config")
        return Descriptor.from_json(raw) if raw else None

    @cached_property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Config first, then layers: everything an image manifest needs present before it is pushed."""
        if self.is_index:
            return ()
        layers = tuple(Descriptor.from_json(d) for d in self.body.get("layers") or ())
        return ((self.config,) if self.config else ()) + layers

    @property
    def is_image(self) -> bool:
        """An image (as opposed to a Helm chart or another OCI artifact): platform rules apply."""
        return self.config is not None and self.config.media_type in IMAGE_CONFIG_TYPES
