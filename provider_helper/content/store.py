"""The content API, in the spirit of regclient's ``scheme.API``: what the copy engine, resolve and
verify read and write through, whatever holds the content.

Stores answer with error kinds (``errors.NotFoundError``, ``DeniedError``, ``UnsupportedError``,
``BlobUnknownError``, ``TooLargeError``, ``PolicyError``; ``TransientError`` for what is worth another
try), never with HTTP statuses or registry error codes: those stay in the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from provider_helper.oci.manifest import Descriptor, Manifest
from provider_helper.retry import RetryPolicy


class Reader(Protocol):
    """Where content is read: a source registry, a layout, an artifact the tool built."""

    def head_manifest(self, repo: str, reference: str) -> str | None: ...  # the digest, or None where there is none
    def get_manifest(self, repo: str, reference: str) -> Manifest: ...  # verified against a digest reference
    def tags(self, repo: str) -> list[str]: ...
    # None: the store has no such listing
    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None: ...
    # unverified: pass it through oci.digests
    def open_blob(self, repo: str, digest: str) -> AbstractContextManager[Iterator[bytes]]: ...
    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes: ...  # small, whole and verified


class Store(Reader, Protocol):
    """Where content is written: a target registry, a layout being saved, the tests' in-memory store."""

    # BlobUnknownError: a blob is not there (yet)
    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None: ...
    def has_blob(self, repo: str, digest: str) -> bool: ...
    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool: ...  # False: not mounted, upload it
    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None: ...


@runtime_checkable
class Retrying(Protocol):
    """A capability a store may offer: how the engine tries a whole blob copy into it again after a
    transient failure (a registry: ``--retries``). ``put_blob`` itself never retries."""

    @property
    def retry(self) -> RetryPolicy: ...


ONE_ATTEMPT = RetryPolicy(attempts=1)  # a store that does not offer retries (a layout on disk)


def retry_policy(store: Store) -> RetryPolicy:
    """How a blob copy into ``store`` is retried: its own policy where it offers one, else one attempt."""
    return store.retry if isinstance(store, Retrying) else ONE_ATTEMPT


@runtime_checkable
class RangeReader(Protocol):
    """A reader that can start a blob part-way (a registry, through ``Range``)."""

    def open_blob_from(
        self, repo: str, digest: str, offset: int
    ) -> AbstractContextManager[tuple[int, Iterator[bytes]]]: ...

    # -> where the bytes start (``offset``, or 0 when the source sent the whole blob) and the bytes: unverified


@runtime_checkable
class ResumableStore(Protocol):
    """A store that keeps a blob it was given part of (an OCI layout being saved), so the next try
    continues from where the last one stopped."""

    def partial_blob(self, blob: Descriptor) -> tuple[int, Any] | None: ...  # bytes held, and their hash so far
    # from ``offset`` on; 0 starts it again
    def put_blob_from(self, repo: str, blob: Descriptor, offset: int, chunks: Iterable[bytes]) -> None: ...
