"""Where each upstream is read from: ``--source-map UPSTREAM=MIRROR`` (and ``--source-registry HOST``, which
is ``nvcr.io=HOST``), for registries and for the hosts of classic Helm repositories.

A mapped source keeps its upstream reference in the plan's words and the result document (``source``);
only the place it is read from changes: ``docker.io/library/nats:2.10.21-alpine`` with
``docker.io=mirror.internal:5000/hub`` is read as ``mirror.internal:5000/hub/library/nats:2.10.21-alpine``.
An unmapped Docker Hub source is read at ``registry-1.docker.io``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

from provider_helper.errors import SettingError
from provider_helper.oci.reference import (
    DOCKER_HUB,
    Reference,
    api_host,
    canonical_host,
    is_loopback,
    is_registry_host,
    is_repository_path,
)
from provider_helper.registry.credentials import NGC_REGISTRY
from provider_helper.wording import setting


@dataclass(frozen=True)
class Mirror:
    """A registry host (or web server) and an optional path prefix an upstream is read under."""

    host: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{self.host}/{self.prefix}" if self.prefix else self.host


@dataclass(frozen=True)
class SourceMap:
    mirrors: Mapping[str, Mirror] = field(default_factory=lambda: MappingProxyType({}))  # upstream host -> mirror

    @classmethod
    def parse(cls, items: Iterable[str], source_registry: str | None = None) -> SourceMap:
        """``UPSTREAM=MIRROR`` items (MIRROR: ``HOST[:PORT][/PREFIX]``), and ``--source-registry`` as ``nvcr.io=HOST``.
        A bad spelling, an upstream given twice, or nvcr.io given both ways is a SettingError naming the item."""
        mirrors: dict[str, Mirror] = {}
        for item in items:
            upstream, sep, mirror = item.strip().partition("=")
            upstream = upstream.strip()
            if not sep:
                raise SettingError("source_map", item, "expected UPSTREAM=MIRROR, e.g. docker.io=mirror.internal:5000")
            if not upstream or not is_registry_host(upstream, named=True):
                raise SettingError(
                    "source_map",
                    upstream,
                    "UPSTREAM must be a registry or web host, e.g. docker.io, ghcr.io, helm.ngc.nvidia.com",
                    value=mirror,
                )
            parsed = _mirror(mirror)
            if parsed is None:
                raise SettingError(
                    "source_map",
                    upstream,
                    "MIRROR must be HOST[:PORT][/PREFIX], e.g. mirror.internal:5000",
                    value=mirror,
                )
            key = canonical_host(upstream)
            if key in mirrors:
                raise SettingError("source_map", upstream, f"{key} is mapped twice", value=mirror)
            mirrors[key] = parsed
        if source_registry:
            if NGC_REGISTRY in mirrors:
                raise SettingError(
                    "source_map",
                    NGC_REGISTRY,
                    f"nvcr.io is also given by {setting('source_registry')}: use one of the two",
                    value=str(mirrors[NGC_REGISTRY]),
                )
            parsed = _mirror(source_registry)
            if parsed is None or parsed.prefix:
                raise SettingError("source_registry", source_registry, "expected HOST[:PORT]")
            mirrors[NGC_REGISTRY] = parsed
        return cls(MappingProxyType(mirrors))

    def mirror(self, upstream: str) -> Mirror | None:
        return self.mirrors.get(canonical_host(upstream))

    def source(self, ref: Reference) -> Reference:
        """Where ``ref`` is read: under its mirror, else at its registry's API host."""
        mirror = self.mirror(ref.registry)
        if mirror is None:
            return ref.with_registry(api_host(ref.registry))
        return replace(
            ref,
            registry=mirror.host,
            repository=f"{mirror.prefix}/{ref.repository}" if mirror.prefix else ref.repository,
        )

    def upstream_of(self, host: str) -> str | None:
        """The upstream a host is read for (``docker.io`` for ``registry-1.docker.io`` or Docker Hub's mirror)."""
        if api_host(host) != host or canonical_host(host) == DOCKER_HUB:
            return DOCKER_HUB
        return next((upstream for upstream, mirror in self.mirrors.items() if mirror.host == host), None)

    def url(self, url: str) -> str:
        """A classic Helm repository's (or a chart's) URL with its host replaced by its mirror: plain HTTP
        for a loopback mirror, like every loopback host, else HTTPS."""
        parts = urlsplit(url)
        mirror = self.mirrors.get((parts.netloc.rpartition("@")[2]).lower())
        if mirror is None:
            return url
        scheme = "http" if is_loopback(mirror.host) else "https"
        path = f"/{mirror.prefix}{parts.path}" if mirror.prefix else parts.path
        return urlunsplit((scheme, mirror.host, path, parts.query, parts.fragment))

    @property
    def ngc_hosts(self) -> frozenset[str]:
        """nvcr.io and the host it is read from: where NGC_API_KEY is offered when a registry asks."""
        mirror = self.mirror(NGC_REGISTRY)
        return frozenset({NGC_REGISTRY} | ({mirror.host} if mirror else set()))


def _mirror(text: str) -> Mirror | None:
    host, _, prefix = text.strip().rstrip("/").partition("/")
    if not host or not is_registry_host(host) or (prefix and not is_repository_path(prefix)):
        return None
    return Mirror(host.lower(), prefix)
