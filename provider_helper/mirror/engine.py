"""The copy engine: blobs first (``blobs.BlobTransfers``: skip present, mount, stream and verify),
manifests last, then what the source attached (signatures, referrers).

A tag is written only after everything it points at is in the target, so a failure at any
point leaves no tag on incomplete content. Concurrency is bounded three ways: up to
``check_jobs`` artifacts are resolved and compared with the target at once (two small
requests each), ``jobs`` of them copy at once, and ``blob_jobs`` blob transfers run at once
across all of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Protocol

from provider_helper.content.store import Store
from provider_helper.errors import (
    BlobUnknownError,
    CancelledError,
    DeniedError,
    NotFoundError,
    RegistryError,
    UnsupportedError,
)
from provider_helper.mirror.attached import (
    Attachment,
    Finder,
    Found,
    fallback_tag,
    merged_index,
    referrer_tag,
    refuse_long_listing,
    subset_note,
)
from provider_helper.mirror.blobs import BlobTransfers
from provider_helper.mirror.concurrency import Cancellation
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved
from provider_helper.mirror.sources import Payload, PayloadFor
from provider_helper.registry.oci import Manifest
from provider_helper.registry.retry import describe
from provider_helper.results import ArtifactResult
from provider_helper.threads import worker_pool

log = logging.getLogger(__name__)


MANIFEST_PUT_ATTEMPTS = 4
CANCEL_GRACE_S = 2.0  # how long Ctrl-C waits for workers to leave the step they are in


class Reporter(Protocol):
    def started(self, job: Job) -> None: ...
    def planned(self, n: int) -> None: ...  # bytes the checks decided to send
    def transferred(self, n: int) -> None: ...
    def finished(self, result: ArtifactResult) -> None: ...


@dataclass(frozen=True)
class EngineOptions:
    jobs: int = 8
    blob_jobs: int = 16  # the ceiling: the transfers at once adapt to the registry (concurrency.AdaptiveLimit)
    check_jobs: int = 32  # a warm run is one source GET and one target HEAD per artifact: latency-bound
    mode: str = "copy"  # copy; dry-run: also ask the target, push nothing; resolve: ask the source only
    signatures: bool = True  # carry cosign signatures, attestations, SBOMs and OCI referrers along
    recheck_signatures: bool = False  # warm runs also read what is attached to compare digests, not only names
    mount_from: tuple[str, ...] = ()  # prefixes of the target whose same-named repositories may lend blobs (--mount-from)


def _is_present(current: str, resolved: Resolved, fetch: Callable[[], Manifest]) -> bool:
    if resolved.digest is not None:
        return current == resolved.digest
    return resolved.matches is not None and resolved.matches(fetch())


class CopyEngine:
    def __init__(self, payload_for: PayloadFor, target: Store, options: EngineOptions, reporter: Reporter,
                 locations: BlobLocations | None = None) -> None:
        """``locations``: where the target registry held blobs in earlier runs (mount sources)."""
        self.payload_for = payload_for
        self.target = target
        self.options = options
        self.reporter = reporter
        self.cancel = Cancellation()  # set on Ctrl-C: workers stop at the next chunk or step
        self.blobs = BlobTransfers(target, reporter, self.cancel, options.blob_jobs, options.mount_from, locations)
        self.finder = Finder()
        self._target_lists_referrers: bool | None = None  # learnt from the first subject's listing
        self._lookup_pool = worker_pool(2 * options.check_jobs, "lookup")  # each check starts two: the target's tag, the tag list
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
            at_target = None if self.options.mode == "resolve" else self._lookup_pool.submit(self.target.head_manifest, dst_repo, job.target.reference)
            resolved = payload.resolved  # the source's answer, while the target's and the tag list are on their way
            result.digest, result.platforms, result.note = resolved.digest, resolved.platforms, resolved.note
            if self.options.mode != "copy":
                self._find_attached(payload, result)  # for the platform-subset note
            if at_target is None:
                return
            current = at_target.result()
            if current is not None and _is_present(current, resolved, lambda: self.target.get_manifest(dst_repo, job.target.reference)):
                result.status, result.digest = "present", current  # two requests for a warm artifact: source manifest, this HEAD
                if self.options.mode == "copy":
                    self._carry(payload, dst_repo, result, warm=True)
                return
        if self.options.mode == "dry-run":
            return
        with self._copy_slots:
            self.cancel.check()
            self._push(payload, job, result)
            self._carry(payload, dst_repo, result)

    def _push(self, payload: Payload, job: Job, result: ArtifactResult) -> None:
        dst_repo = job.target.repository
        selection = payload.resolved.materialize()
        result.digest, result.platforms = selection.top.digest, selection.platforms
        for manifest in [*selection.children, selection.top]:
            result.bytes_copied += self.blobs.copy(payload, dst_repo, manifest.blobs)
        for child in selection.children:
            result.bytes_copied += self._put_manifest(payload, dst_repo, child.digest, child)
        result.bytes_copied += self._put_manifest(payload, dst_repo, job.target.reference, selection.top)
        result.bytes_copied += sum(len(m.data) for m in [*selection.children, selection.top])
        result.status = "copied"

    # -- signatures and referrers -------------------------------------------------------------

    def _find_attached(self, payload: Payload, result: ArtifactResult, *, by_name: bool = False) -> Found | None:
        """What the source attached to the artifact, and the note when a platform subset loses it.

        A source that does not let us list its tags (denied, not found) gets a note, not a failure."""
        if not self.options.signatures or not payload.attached:
            return None
        resolved = payload.resolved
        try:
            found = self.finder.find(payload.source, payload.repo, resolved.signed + ((resolved.cut_from,) if resolved.cut_from else ()), by_name=by_name)
        except RegistryError as exc:
            self._note_refusal(result, exc, "signatures not looked up")
            return None
        note = subset_note(found, resolved.digest, resolved.cut_from)
        if note:
            self._add_note(result, note)
        return found.about(resolved.signed)  # what signs the index a subset was cut from stays behind

    @staticmethod
    def _add_note(result: ArtifactResult, note: str) -> None:
        result.note = f"{result.note}; {note}" if result.note else note

    @classmethod
    def _note_refusal(cls, result: ArtifactResult, exc: RegistryError, what: str) -> None:
        """A source that will not let us look (denied, not found) gets a note on the artifact; anything else fails it."""
        if not isinstance(exc, (DeniedError, NotFoundError)):
            raise exc
        cls._add_note(result, f"{what}: {exc}")

    def _carry(self, payload: Payload, dst_repo: str, result: ArtifactResult, *, warm: bool = False) -> None:
        """Push what the source attached, after the artifact itself; each one byte-identical.

        ``warm``: the artifact was at the target already. Unless --recheck-signatures, what the
        target has under the same name counts as carried, so the source is asked for nothing more
        than its tag list: one request per artifact to learn that nothing changed."""
        by_name = warm and not self.options.recheck_signatures
        found = self._find_attached(payload, result, by_name=by_name)
        if found is None:
            return
        source, src_repo = payload.source, payload.repo
        for subject in found.unread_indexes:
            if not self._target_has_referrers_of(dst_repo, subject):
                try:
                    found.add(self.finder.referrers(source, src_repo, subject))
                except RegistryError as exc:
                    self._note_refusal(result, exc, "referrers not looked up")
        for attachment in found.attachments:
            self.cancel.check()
            at_target = self.target.head_manifest(dst_repo, attachment.reference)
            # a referrer is named by its digest, so present is identical; a cosign tag is compared by digest unless by name
            if at_target is not None and (attachment.descriptor is not None or by_name):
                result.attached.append(attachment.listed(at_target))
                continue
            manifest = source.get_manifest(src_repo, attachment.reference)
            if attachment.descriptor is not None and attachment.descriptor.size != len(manifest.data):
                # the listing's entry goes into the target's fallback index as it is: it must describe these bytes
                raise RegistryError(f"referrer {attachment.reference}: listed as {attachment.descriptor.size} bytes, "
                                    f"the manifest has {len(manifest.data)}")
            result.attached.append(attachment.listed(manifest.digest))
            if attachment.descriptor is None and at_target == manifest.digest:
                continue
            try:
                result.bytes_copied += self._push_attached(payload, dst_repo, attachment, manifest)
            except RegistryError as exc:
                raise exc.about(f"{attachment.kind} {attachment.reference}") from None
            result.signatures_copied += 1
        for subject in dict.fromkeys(a.subject for a in found.attachments if a.descriptor is not None):
            if not self._target_lists_referrers_of(dst_repo, subject):
                result.bytes_copied += self._write_fallback_index(found, dst_repo, subject)

    def _push_attached(self, payload: Payload, dst_repo: str, attachment: Attachment, manifest: Manifest) -> int:
        """Blobs first, then the manifest; an attached index brings its image manifests along."""
        refuse_long_listing("the index", len(manifest.children))  # the caller names the attachment
        children = [payload.source.get_manifest(payload.repo, d.digest) for d in manifest.children]
        sent = self.blobs.copy(payload, dst_repo, [b for m in [*children, manifest] for b in m.blobs])
        for child in children:
            sent += self._put_manifest(payload, dst_repo, child.digest, child)
        try:
            sent += self._put_manifest(payload, dst_repo, attachment.reference, manifest)
        except UnsupportedError:
            if attachment.descriptor is None:
                raise
            # ECR has refused referrers pushed by digest (aws/containers-roadmap#2783): keep it under a
            # tag of its own, listed in the subject's fallback index.
            self._target_lists_referrers = False
            sent += self._put_manifest(payload, dst_repo, referrer_tag(attachment), manifest)
        return sent + sum(len(m.data) for m in [*children, manifest])

    def _target_has_referrers_of(self, dst_repo: str, subject: str) -> bool:
        """Whether the target lists some referrer of ``subject``, by its referrers API or under the fallback tag."""
        return bool(self.target.list_referrers(dst_repo, subject)) or self.target.head_manifest(dst_repo, fallback_tag(subject)) is not None

    def _target_lists_referrers_of(self, dst_repo: str, subject: str) -> bool:
        """Whether the target indexes referrers itself (OCI 1.1 API); asked once per run."""
        if self._target_lists_referrers is None:
            self._target_lists_referrers = self.target.list_referrers(dst_repo, subject) is not None
        return self._target_lists_referrers

    def _write_fallback_index(self, found: Found, dst_repo: str, subject: str) -> int:
        """Where the target has no referrers API, list the referrers under the fallback tag: the source's
        own index when it had one (byte-identical), merged with any the target lists already."""
        tag = fallback_tag(subject)
        wanted = found.referrers_of(subject)
        source_index = found.fallback_indexes.get(subject)
        current_digest = self.target.head_manifest(dst_repo, tag)
        if source_index is not None and current_digest == source_index.digest:
            return 0
        current = self.target.get_manifest(dst_repo, tag) if current_digest else None
        listed = {d.digest for d in current.children} if current else set()
        if listed >= {d.digest for d in wanted}:
            return 0
        if source_index is not None and listed <= {d.digest for d in source_index.children}:
            index = source_index
        else:
            index = merged_index(current, wanted)
        self.target.put_manifest(dst_repo, tag, index)
        return len(index.data)

    def _put_manifest(self, payload: Payload, dst_repo: str, reference: str, manifest: Manifest) -> int:
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
                wait_s = self.target.retry.delay(attempt, None)
                log.debug("put manifest %s:%s: %s; checking its blobs again, retry in %.1fs", dst_repo, reference, exc, wait_s)
            self.cancel.sleep(wait_s)
            resent += sum(self.blobs.ensure(payload, dst_repo, blob, trust_ledger=False) for blob in manifest.blobs)
        raise AssertionError("unreachable")
