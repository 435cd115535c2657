"""Where a job's content comes from. The copy engine pushes a ``Payload`` without knowing whether
it is read from a registry, built from a classic Helm repository or an NGC resource, or loaded from
a layout: each is a content store (``content.store.Reader``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from provider_helper.content.registry import RegistryClient
from provider_helper.content.store import Reader
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved, Selection, resolve
from provider_helper.oci.manifest import Descriptor


@dataclass
class Payload:
    """One job's content: the digest its tag must point at, and the store and repository the rest is
    read from if it is missing.

    ``resolve`` asks the source on first use of ``resolved``, so the engine can start the lookups
    that do not depend on it (the target's tag, the source's tag list) at the same time."""

    resolve: Callable[[], Resolved]
    source: Reader
    repo: str
    attached: bool = (
        True  # what the source attached (signatures, referrers) travels along; False for content the tool built
    )
    _resolved: Resolved | None = field(default=None, init=False, repr=False)

    @property
    def resolved(self) -> Resolved:
        # Not functools.cached_property: on Python 3.11 it holds one lock for every instance,
        # which would make the artifacts' source lookups wait for each other.
        if self._resolved is None:
            self._resolved = self.resolve()
        return self._resolved

    def open_blob(self, blob: Descriptor) -> AbstractContextManager[Iterator[bytes]]:
        return self.source.open_blob(self.repo, blob.digest)

    @classmethod
    def ready(cls, selection: Selection, source: Reader, repo: str = "", *, attached: bool = False) -> Payload:
        """Content already in hand (a built chart, a layout's artifact)."""
        signed = (selection.top.digest, *(m.digest for m in selection.children))
        resolved = Resolved(selection.top.digest, selection.platforms, selection.note, lambda: selection, signed=signed)
        return cls(lambda: resolved, source, repo, attached)


PayloadFor = Callable[[Job], Payload]


def from_registry(source_for: Callable[[str], RegistryClient]) -> PayloadFor:
    """Images and OCI charts: resolved in, and streamed from, the source registry."""

    def payload(job: Job) -> Payload:
        reference = job.source
        assert reference is not None
        source = source_for(reference.registry)
        return Payload(lambda: resolve(source, reference, job.platforms), source, reference.repository)

    return payload


def dispatch(registry: PayloadFor, classic_chart: PayloadFor, resource: PayloadFor) -> PayloadFor:
    def payload(job: Job) -> Payload:
        if job.artifact.type == "resource":
            return resource(job)
        return classic_chart(job) if job.artifact.is_classic_chart else registry(job)

    return payload
