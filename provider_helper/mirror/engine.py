"""The copy engine: per artifact, resolve the source and compare with the target, then blobs first
(``blobs``: skip present, mount, stream and verify), manifests last, then what the source attached
(``carry``: signatures, attestations, SBOMs, referrers).

A tag is written only after everything it points at is in the target, so a failure at any
point leaves no tag on incomplete content. Concurrency is bounded three ways: up to
``check_jobs`` artifacts are resolved and compared with the target at once (two small
requests each), ``jobs`` of them copy at once, and ``blob_jobs`` blob transfers run at once
across all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Literal, Protocol

from provider_helper.content.store import Store
from provider_helper.errors import CancelledError
from provider_helper.mirror.attached import Finder
from provider_helper.mirror.blobs import BlobTransfers
from provider_helper.mirror.carry import AttachedCopier
from provider_helper.mirror.concurrency import Cancellation
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved
from provider_helper.mirror.sources import Payload, PayloadFor
from provider_helper.oci.manifest import Manifest
from provider_helper.results import ArtifactResult
from provider_helper.retry import describe
from provider_helper.threads import worker_pool

CANCEL_GRACE_S = 2.0  # how long Ctrl-C waits for workers to leave the step they are in


class Reporter(Protocol):
    def started(self, job: Job) -> None: ...
    def planned(self, n: int) -> None: ...  # bytes the checks decided to send
    def transferred(self, n: int) -> None: ...
    def finished(self, result: ArtifactResult) -> None: ...


# What a run does: copy; dry-run: also ask the target, push nothing; resolve: ask the source only (plan).
Mode = Literal["copy", "dry-run", "resolve"]


@dataclass(frozen=True)
class EngineOptions:
    jobs: int = 8
    blob_jobs: int = 16  # the ceiling: the transfers at once adapt to the registry (concurrency.AdaptiveLimit)
    check_jobs: int = 32  # a warm run is one source GET and one target HEAD per artifact: latency-bound
    mode: Mode = "copy"
    signatures: bool = True  # carry cosign signatures, attestations, SBOMs and OCI referrers along
    recheck_signatures: bool = False  # warm runs also read what is attached to compare digests, not only names
    mount_from: tuple[
        str, ...
    ] = ()  # prefixes of the target whose same-named repositories may lend blobs (--mount-from)


def _is_present(current: str, resolved: Resolved, fetch: Callable[[], Manifest]) -> bool:
    if resolved.digest is not None:
        return current == resolved.digest
    return resolved.matches is not None and resolved.matches(fetch())


class CopyEngine:
    def __init__(
        self,
        payload_for: PayloadFor,
        target: Store,
        options: EngineOptions,
        reporter: Reporter,
        locations: BlobLocations | None = None,
    ) -> None:
        """``locations``: where the target registry held blobs in earlier runs (mount sources)."""
        self.payload_for = payload_for
        self.target = target
        self.options = options
        self.reporter = reporter
        self.cancel = Cancellation()  # set on Ctrl-C: workers stop at the next chunk or step
        self.blobs = BlobTransfers(target, reporter, self.cancel, options.blob_jobs, options.mount_from, locations)
        self.finder = Finder()
        self.attached = AttachedCopier(
            target, self.blobs, self.finder, self.cancel, enabled=options.signatures, recheck=options.recheck_signatures
        )
        # each check starts two: the target's tag, the tag list
        self._lookup_pool = worker_pool(2 * options.check_jobs, "lookup")
        self._check_slots = threading.BoundedSemaphore(options.check_jobs)
        self._copy_slots = threading.BoundedSemaphore(options.jobs)

    def run(self, jobs: list[Job]) -> list[ArtifactResult]:
        """Copy every job; one failure never stops the others. Results keep the jobs' order.

        On Ctrl-C the workers stop at their next step and are given ``CANCEL_GRACE_S`` to do so (an
        abandoned upload is cancelled at the registry); a worker still waiting on the network after
        that is left behind, which is safe: no manifest is started once cancelled."""
        workers = self.options.check_jobs + self.options.jobs  # each slot kind can be full at once
        pool = worker_pool(workers, "artifact")
        futures = [pool.submit(self._run_one, job) for job in jobs]
        try:
            results = [f.result() for f in futures]
        except BaseException:
            self.cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            wait(futures, timeout=CANCEL_GRACE_S)  # queued blob copies start, see the cancel and end at once
            raise
        pool.shutdown(wait=True)
        self.blobs.shutdown()
        self._lookup_pool.shutdown(wait=True)
        return results

    def _run_one(self, job: Job) -> ArtifactResult:
        result = job.result()
        if job.skip_reason:
            result.status, result.error = "skipped", job.skip_reason
            self.reporter.finished(result)
            return result
        self.reporter.started(job)
        try:
            self._copy(job, result)
        except CancelledError:
            result.status, result.error = "failed", "interrupted"
        except Exception as exc:  # noqa: BLE001 -- registry answers, transport errors after retries, bad content: this artifact only
            result.status, result.error = "failed", describe(exc)
        self.reporter.finished(result)
        return result

    def _copy(self, job: Job, result: ArtifactResult) -> None:
        dst_repo = job.target.repository
        with self._check_slots:
            self.cancel.check()  # a worker that waited for its slot through Ctrl-C starts nothing new
            payload = self.payload_for(job)
            if self.options.signatures and payload.attached:
                self.finder.prefetch(payload.source, payload.repo, self._lookup_pool)
            at_target = (
                None
                if self.options.mode == "resolve"
                else self._lookup_pool.submit(self.target.head_manifest, dst_repo, job.target.reference)
            )
            resolved = payload.resolved  # the source's answer, while the target's and the tag list are on their way
            result.digest, result.platforms, result.note = resolved.digest, resolved.platforms, resolved.note
            if self.options.mode == "resolve" and resolved.check_platform is not None:
                result.platforms = resolved.check_platform()  # plan refuses a wrong architecture as the copy would
            if self.options.mode != "copy":
                self.attached.find(payload, result)  # for the platform-subset note
            if at_target is None:
                return
            current = at_target.result()
            if current is not None and _is_present(
                current, resolved, lambda: self.target.get_manifest(dst_repo, job.target.reference)
            ):
                # two requests for a warm artifact: source manifest, this HEAD
                result.status, result.digest = "present", current
                if self.options.mode == "copy":
                    self.attached.carry(payload, dst_repo, result, warm=True)
                return
        if self.options.mode == "dry-run":
            self._estimate(payload, job, result)
            return
        with self._copy_slots:
            self.cancel.check()
            self._push(payload, job, result)
            self.attached.carry(payload, dst_repo, result)

    def _estimate(self, payload: Payload, job: Job, result: ArtifactResult) -> None:
        """A dry run's answer for an artifact the target lacks: the bytes the copy would send, counted as
        ``_push`` counts them (the blobs the target would neither hold nor mount, its manifests)."""
        selection = payload.resolved.materialize()  # what the copy would refuse (a wrong arch), it refuses
        result.platforms = selection.platforms or result.platforms  # with --all-platforms no config is read
        manifests = [*selection.children, selection.top]
        blobs = {b.digest: b for m in manifests for b in m.blobs}.values()
        blob_bytes = sum(self.blobs.would_send(job.target.repository, b) for b in blobs)
        result.bytes_to_copy = blob_bytes + sum(len(m.data) for m in manifests)

    def _push(self, payload: Payload, job: Job, result: ArtifactResult) -> None:
        dst_repo = job.target.repository
        selection = payload.resolved.materialize()
        result.digest, result.platforms = selection.top.digest, selection.platforms
        for manifest in [*selection.children, selection.top]:
            result.bytes_copied += self.blobs.copy(payload, dst_repo, manifest.blobs)
        for child in selection.children:
            result.bytes_copied += self.blobs.put_manifest(payload, dst_repo, child.digest, child)
        result.bytes_copied += self.blobs.put_manifest(payload, dst_repo, job.target.reference, selection.top)
        result.bytes_copied += sum(len(m.data) for m in [*selection.children, selection.top])
        result.status = "copied"
