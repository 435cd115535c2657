"""What the source attached to an artifact (cosign signatures, attestations, SBOMs, OCI 1.1
referrers), copied after the artifact itself, each byte-identical; where the target has no referrers
API, its referrers are listed under the fallback tag (``attached`` finds them)."""

from __future__ import annotations

from provider_helper.content.store import Store
from provider_helper.errors import DeniedError, NotFoundError, RegistryError, UnsupportedError
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
from provider_helper.mirror.sources import Payload
from provider_helper.oci.manifest import Manifest
from provider_helper.results import ArtifactResult


class AttachedCopier:
    def __init__(
        self, target: Store, blobs: BlobTransfers, finder: Finder, cancel: Cancellation, *, enabled: bool, recheck: bool
    ) -> None:
        """``enabled``: signatures travel at all; ``recheck``: warm runs compare them by digest, not by name."""
        self.target = target
        self.blobs = blobs
        self.finder = finder
        self.cancel = cancel
        self.enabled = enabled
        self.recheck = recheck
        self._target_lists_referrers: bool | None = None  # learnt from the first subject's listing

    def find(self, payload: Payload, result: ArtifactResult, *, by_name: bool = False) -> Found | None:
        """What the source attached to the artifact, and the note when a platform subset loses it.

        A source that does not let us list its tags (denied, not found) gets a note, not a failure."""
        if not self.enabled or not payload.attached:
            return None
        resolved = payload.resolved
        try:
            found = self.finder.find(
                payload.source,
                payload.repo,
                resolved.signed + ((resolved.cut_from,) if resolved.cut_from else ()),
                by_name=by_name,
            )
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
        """A source that will not let us look (denied, not found) gets a note on the artifact; anything else
        fails it."""
        if not isinstance(exc, (DeniedError, NotFoundError)):
            raise exc
        cls._add_note(result, f"{what}: {exc}")

    def carry(self, payload: Payload, dst_repo: str, result: ArtifactResult, *, warm: bool = False) -> None:
        """Push what the source attached, after the artifact itself; each one byte-identical.

        ``warm``: the artifact was at the target already. Unless --recheck-signatures, what the
        target has under the same name counts as carried, so the source is asked for nothing more
        than its tag list: one request per artifact to learn that nothing changed."""
        by_name = warm and not self.recheck
        found = self.find(payload, result, by_name=by_name)
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
            # a referrer is named by its digest, so present is identical; a cosign tag is compared by digest
            # unless by name
            if at_target is not None and (attachment.descriptor is not None or by_name):
                result.attached.append(attachment.listed(at_target))
                continue
            manifest = source.get_manifest(src_repo, attachment.reference)
            if attachment.descriptor is not None and attachment.descriptor.size != len(manifest.data):
                # the listing's entry goes into the target's fallback index as it is: it must describe these bytes
                raise RegistryError(
                    f"referrer {attachment.reference}: listed as {attachment.descriptor.size} bytes, "
                    f"the manifest has {len(manifest.data)}"
                )
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
            sent += self.blobs.put_manifest(payload, dst_repo, child.digest, child)
        try:
            sent += self.blobs.put_manifest(payload, dst_repo, attachment.reference, manifest)
        except UnsupportedError:
            if attachment.descriptor is None:
                raise
            # ECR has refused referrers pushed by digest (aws/containers-roadmap#2783): keep it under a
            # tag of its own, listed in the subject's fallback index.
            self._target_lists_referrers = False
            sent += self.blobs.put_manifest(payload, dst_repo, referrer_tag(attachment), manifest)
        return sent + sum(len(m.data) for m in [*children, manifest])

    def _target_has_referrers_of(self, dst_repo: str, subject: str) -> bool:
        """Whether the target lists some referrer of ``subject``, by its referrers API or under the fallback tag."""
        return (
            bool(self.target.list_referrers(dst_repo, subject))
            or self.target.head_manifest(dst_repo, fallback_tag(subject)) is not None
        )

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
