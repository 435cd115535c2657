"""Blob transfer into one target: a blob present is skipped, one held elsewhere in the target is
mounted, anything else is streamed from its source through the digest-verifying reader and uploaded.
Each digest is uploaded once per run (later transfers wait for the first, then mount); the transfers
at once adapt to the registry (``concurrency.AdaptiveLimit``). A manifest is put after its blobs, and
put again, after its blobs are checked again, when the target says one is not there (yet)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from functools import partial
from typing import Protocol

from provider_helper.content.store import RangeReader, ResumableStore, Store, retry_policy
from provider_helper.errors import BlobUnknownError, TransientError
from provider_helper.mirror.concurrency import AdaptiveLimit, Cancellation
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.sources import Payload
from provider_helper.oci.digests import verified
from provider_helper.oci.manifest import Descriptor, Manifest
from provider_helper.retry import call_with_retries
from provider_helper.threads import worker_pool

log = logging.getLogger(__name__)

MANIFEST_PUT_ATTEMPTS = 4  # a manifest PUT refused for a blob (BlobUnknownError) is retried this often


class ByteProgress(Protocol):
    def planned(self, n: int) -> None: ...  # bytes the checks decided to send
    def transferred(self, n: int) -> None: ...


class BlobLedger:
    """Which target repositories got which blobs during this run, and the first transfer of each
    digest: later transfers of a blob start when that one has ended, so a blob shared by
    concurrent artifacts is uploaded once and mounted everywhere else, and no worker sits
    waiting for the upload meanwhile (the later transfers are queued only once it is done)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, set[str]] = {}
        self._first: dict[str, Future[int]] = {}
        self._claimed: set[str] = set()

    def after_first(self, digest: str, start: Callable[[], Future[int]]) -> Future[int]:
        """``start()`` now if this is the digest's first transfer, else once the first has ended."""
        with self._lock:
            first = self._first.get(digest)
            if first is None:
                self._first[digest] = started = start()
                return started
        follower: Future[int] = Future()

        def begin(_: Future[int]) -> None:
            try:
                start().add_done_callback(lambda done: _settle(follower, done))
            except BaseException as exc:  # noqa: BLE001 -- a pool shut down by Ctrl-C: the waiter must still wake
                follower.set_exception(exc)

        first.add_done_callback(begin)
        return follower

    def claim(self, digest: str) -> bool:
        """True for the first caller that asks about ``digest`` (a dry run counts each blob once, as a
        copy uploads it once and mounts it everywhere else)."""
        with self._lock:
            if digest in self._claimed:
                return False
            self._claimed.add(digest)
            return True

    def holders(self, digest: str) -> set[str]:
        with self._lock:
            return set(self._holders.get(digest, ()))

    def add(self, digest: str, repo: str) -> None:
        with self._lock:
            self._holders.setdefault(digest, set()).add(repo)


def _settle(follower: Future[int], done: Future[int]) -> None:
    error = done.exception()
    if error is not None:
        follower.set_exception(error)
    else:
        follower.set_result(done.result())


class BlobTransfers:
    def __init__(
        self,
        target: Store,
        progress: ByteProgress,
        cancel: Cancellation,
        blob_jobs: int,
        mount_from: tuple[str, ...] = (),
        locations: BlobLocations | None = None,
    ) -> None:
        """``mount_from``: prefixes of the target whose same-named repositories may lend blobs;
        ``locations``: where the target registry held blobs in earlier runs."""
        self.target = target
        self.retry = retry_policy(target)
        self.progress = progress
        self.cancel = cancel
        self.mount_from = mount_from
        self.locations = locations
        self.ledger = BlobLedger()
        self.concurrency = AdaptiveLimit(blob_jobs)
        self._pool = worker_pool(blob_jobs, "blob")

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def copy(self, payload: Payload, dst_repo: str, blobs: Iterable[Descriptor]) -> int:
        """Every one of ``blobs`` present in ``dst_repo``; returns the bytes uploaded. Raises the first failure."""
        unique = list({b.digest: b for b in blobs}.values())
        futures = [
            self.ledger.after_first(b.digest, partial(self._pool.submit, self.ensure, payload, dst_repo, b))
            for b in unique
        ]
        wait(futures)
        return sum(f.result() for f in futures)  # a failed blob raises here: its manifest is never pushed

    def put_manifest(self, payload: Payload, dst_repo: str, reference: str, manifest: Manifest) -> int:
        """PUT a manifest whose blobs were sent; a refusal naming a blob is retried after checking
        the blobs at the target again. Returns the bytes of blobs that had to be uploaded again."""
        resent = 0
        for attempt in range(1, MANIFEST_PUT_ATTEMPTS + 1):
            self.cancel.check()
            try:
                self.target.put_manifest(dst_repo, reference, manifest)
                return resent
            except BlobUnknownError as exc:
                if attempt == MANIFEST_PUT_ATTEMPTS:
                    raise
                wait_s = self.retry.delay(attempt, None)
                log.debug(
                    "put manifest %s:%s: %s; checking its blobs again, retry in %.1fs", dst_repo, reference, exc, wait_s
                )
            self.cancel.sleep(wait_s)
            resent += sum(self.ensure(payload, dst_repo, blob, trust_ledger=False) for blob in manifest.blobs)
        raise AssertionError("unreachable")

    def ensure(self, payload: Payload, dst_repo: str, blob: Descriptor, trust_ledger: bool = True) -> int:
        """Make ``blob`` present in ``dst_repo``; return the bytes uploaded (0 when present or mounted).

        ``trust_ledger`` False asks the target even when this run already sent the blob there."""
        self.cancel.check()
        known = trust_ledger and dst_repo in self.ledger.holders(blob.digest)
        if known or self.target.has_blob(dst_repo, blob.digest):
            self._held(blob.digest, dst_repo)
            return 0
        lender = self._mount_source(blob.digest, dst_repo)
        if lender is not None:
            if self.target.mount_blob(dst_repo, blob.digest, lender):
                self._held(blob.digest, dst_repo)
                return 0
            if self.locations is not None:  # refused once (mounting off, another encryption, gone): upload instead
                self.locations.forget(blob.digest, lender)
        self.progress.planned(blob.size)
        sent = self._upload(payload, dst_repo, blob)
        self._held(blob.digest, dst_repo)
        return min(sent, blob.size)

    def would_send(self, dst_repo: str, blob: Descriptor) -> int:
        """What ``ensure`` would upload for ``blob``, asking the target only: 0 when it is there, when a
        repository ``ensure`` would mount it from holds it, or when another artifact of this dry run
        counted it already; else its size."""
        self.cancel.check()
        if not self.ledger.claim(blob.digest) or self.target.has_blob(dst_repo, blob.digest):
            return 0
        lender = self._mount_source(blob.digest, dst_repo)
        return 0 if lender is not None and self.target.has_blob(lender, blob.digest) else blob.size

    def _mount_source(self, digest: str, dst_repo: str) -> str | None:
        """The repository offered as the blob's mount source: one this run put it in, else the
        operator's mount-from prefix, else one an earlier run saw holding it. Only one is tried:
        a refused mount opens the upload that follows (ECR without mounting answers so)."""
        name = dst_repo.rsplit("/", 1)[-1]
        candidates = [
            *sorted(self.ledger.holders(digest)),
            *(f"{prefix}/{name}" for prefix in self.mount_from),
            *(self.locations.holders(digest) if self.locations is not None else ()),
        ]
        return next((repo for repo in candidates if repo != dst_repo), None)

    def _held(self, digest: str, repo: str) -> None:
        self.ledger.add(digest, repo)
        if self.locations is not None:
            self.locations.remember(digest, repo)

    def _upload(self, payload: Payload, dst_repo: str, blob: Descriptor) -> int:
        """Stream the blob from its source into the target, verified; a failure restarts it from the
        source. Into a store that kept part of it (a layout an earlier save was writing), only the rest
        is asked for, with ``Range``; a source that sends the whole blob instead starts it again.
        Returns the bytes read from the source."""
        read = 0

        def attempt() -> None:
            nonlocal read
            with self.concurrency.slot(blob.size):
                try:
                    resumable = self.target if isinstance(self.target, ResumableStore) else None
                    held = resumable.partial_blob(blob) if resumable is not None else None
                    if resumable is not None and held is not None and isinstance(payload.source, RangeReader):
                        with payload.source.open_blob_from(payload.repo, blob.digest, held[0]) as (start, chunks):
                            if start != held[0]:
                                log.debug(
                                    "%s ignored the range for %s: starting it again", payload.repo, blob.digest[:19]
                                )
                            what = f"source blob {blob.digest}"
                            counted = self._counted(
                                verified(chunks, blob.digest, blob.size, what, held=held if start == held[0] else None)
                            )
                            read += blob.size - start
                            resumable.put_blob_from(dst_repo, blob, start, counted)
                    else:
                        with payload.open_blob(blob) as chunks:
                            read += blob.size
                            checked = verified(chunks, blob.digest, blob.size, f"source blob {blob.digest}")
                            self.target.put_blob(dst_repo, blob, self._counted(checked))
                except TransientError:
                    self.concurrency.overloaded()
                    raise
            self.concurrency.succeeded()

        call_with_retries(attempt, self.retry, f"copy blob {blob.digest[:19]} to {dst_repo}", sleep=self.cancel.sleep)
        return read

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Chunks on their way to the target: reported as sent, and stopped at the next one by Ctrl-C."""
        for chunk in chunks:
            self.cancel.check()
            yield chunk
            self.progress.transferred(len(chunk))
