"""Where a job's content comes from. The copy engine pushes a ``Payload`` without knowing whether
it was read from a registry, built from a classic Helm repository, or loaded from a layout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from provider_helper.mirror.attached import Origin
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved, Selection, resolve
from provider_helper.registry.client import RegistryClient
from provider_helper.registry.oci import Descriptor

BlobOpener = Callable[[Descriptor], AbstractContextManager[Iterator[bytes]]]


@dataclass
class Payload:
    """One job's content: the digest its tag must point at, and how to get the rest if it is missing.

    ``resolve`` asks the source on first use of ``resolved``, so the engine can start the lookups
    that do not depend on it (the target's tag, the source's tag list) at the same time."""

    resolve: Callable[[], Resolved]
    open_blob: BlobOpener
    origin: tuple[Origin, str] | None = None  # where its signatures are looked up: a source and repository
    _resolved: Resolved | None = field(default=None, init=False, repr=False)

    @property
    def resolved(self) -> Resolved:
        # Not functools.cached_property: on Python 3.11 it holds one lock for every instance,
        # which would make the artifacts' source lookups wait for each other.
        if self._resolved is None:
            self._resolved = self.resolve()
        return self._resolved

    @classmethod
    def ready(cls, selection: Selection, open_blob: BlobOpener, origin: tuple[Origin, str] | None = None) -> Payload:
        """Content already in hand (a built chart, a layout, files)."""
        signed = (selection.top.digest, *(m.digest for m in selection.children))
        resolved = Resolved(selection.top.digest, selection.platforms, selection.note, lambda: selection, signed=signed)
        return cls(lambda: resolved, open_blob, origin)


PayloadFor = Callable[[Job], Payload]


def from_registry(source_for: Callable[[str], RegistryClient]) -> PayloadFor:
    """Images and OCI charts: resolved in, and streamed from, the source registry."""

    def payload(job: Job) -> Payload:
        reference = job.source
        assert reference is not None
        source = source_for(reference.registry)
        repo = reference.repository
        return Payload(lambda: resolve(source, reference, job.platforms), lambda blob: source.open_blob(repo, blob.digest), (source, repo))

    return payload


def in_memory(blobs: dict[str, bytes]) -> BlobOpener:
    """Blobs we built ourselves (a converted chart): small, already verified."""

    @contextmanager
    def open_blob(blob: Descriptor) -> Iterator[Iterator[bytes]]:
        yield iter((blobs[blob.digest],))

    return open_blob


def dispatch(registry: PayloadFor, classic_chart: PayloadFor, resource: PayloadFor) -> PayloadFor:
    def payload(job: Job) -> Payload:
        if job.artifact.type == "resource":
            return resource(job)
        return classic_chart(job) if job.artifact.is_classic_chart else registry(job)

    return payload
