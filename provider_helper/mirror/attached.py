"""Signatures, attestations and SBOMs that travel with an image: cosign's tags and OCI 1.1 referrers.

Cosign stores what it attaches to ``repo@sha256:<hex>`` under the tags ``sha256-<hex>.sig``,
``.att`` and ``.sbom``. OCI 1.1 links a referrer to its subject by the ``subject`` field, listed by
``GET /v2/<repo>/referrers/<digest>`` or, where a registry lacks that API, by an index under the
fallback tag ``sha256-<hex>``. Finding them costs one tag list per source repository per run (plus
the referrers API where the source has it); the copy engine then pushes each one byte-identical
after the image itself.

A warm run (the image is at the target already) looks them up by name only: the tag list tells
which cosign tags and fallback-tag indexes the source has, and the target is asked whether it has
them. That is one source request per artifact; reading each one to compare digests (a re-signed
``.sig`` keeps its tag) is ``--recheck-signatures`` and ``verify --signatures``.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field

from provider_helper.content.store import Reader
from provider_helper.errors import RegistryError
from provider_helper.oci.manifest import OCI_INDEX, Descriptor, Manifest
from provider_helper.wording import setting

COSIGN_TAGS = {".sig": "signature", ".att": "attestation", ".sbom": "sbom"}
# Real images carry a handful of referrers, and an attached index names a few manifests; a listing
# of thousands is a broken or hostile source that would have the run copy whatever it names.
MAX_LISTED = 256


def fallback_tag(digest: str) -> str:
    """The tag both schemes derive from a digest: ``sha256:ab..`` → ``sha256-ab..``."""
    return digest.replace(":", "-", 1)


@dataclass(frozen=True)
class Attachment:
    """One manifest attached to ``subject``: under a cosign tag, or (a referrer) by its own digest."""

    kind: str  # signature, attestation, sbom (cosign) or referrer (OCI 1.1)
    subject: str
    reference: str  # the cosign tag, or the referrer's digest
    descriptor: Descriptor | None = None  # a referrer's entry in its subject's listing

    def listed(self, digest: str) -> dict[str, str]:
        """How a layout's lock file lists it."""
        return {"kind": self.kind, "subject": self.subject, "reference": self.reference, "digest": digest}


@dataclass
class Found:
    """What the source has attached to some digests."""

    attachments: list[Attachment] = field(default_factory=list)
    fallback_indexes: dict[str, Manifest] = field(default_factory=dict)  # subject → the source's fallback-tag index
    # subjects whose fallback-tag index a lookup by name did not read
    unread_indexes: list[str] = field(default_factory=list)

    def referrers_of(self, subject: str) -> list[Descriptor]:
        return [a.descriptor for a in self.attachments if a.subject == subject and a.descriptor is not None]

    def covers(self, subject: str) -> bool:
        return subject in self.unread_indexes or any(a.subject == subject for a in self.attachments)

    def about(self, subjects: tuple[str, ...]) -> Found:
        """Only what is attached to ``subjects``."""
        return Found(
            [a for a in self.attachments if a.subject in subjects],
            {s: index for s, index in self.fallback_indexes.items() if s in subjects},
            [s for s in self.unread_indexes if s in subjects],
        )

    def add(self, other: Found) -> None:
        self.attachments += other.attachments
        self.fallback_indexes.update(other.fallback_indexes)
        self.unread_indexes += other.unread_indexes


class Finder:
    """Looks up what is attached to digests, listing each source repository's tags once per run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[tuple[int, str], set[str]] = {}
        self._listing: dict[tuple[int, str], threading.Lock] = {}

    def find(self, source: Reader, repo: str, subjects: tuple[str, ...], *, by_name: bool = False) -> Found:
        """What is attached to ``subjects``. ``by_name``: from the tag list alone, the fallback-tag
        indexes left unread and the referrers API not asked (a warm run's lookup)."""
        tags = self._tags_of(source, repo)
        found = Found()
        for subject in dict.fromkeys(subjects):
            stem = fallback_tag(subject)
            found.attachments += [
                Attachment(kind, subject, stem + suffix)
                for suffix, kind in COSIGN_TAGS.items()
                if stem + suffix in tags
            ]
            if not by_name:
                found.add(self.referrers(source, repo, subject))
            elif stem in tags:
                found.unread_indexes.append(subject)
        return found

    def referrers(self, source: Reader, repo: str, subject: str) -> Found:
        """The OCI 1.1 referrers of ``subject``: from the referrers API, or the fallback-tag index."""
        found, stem = Found(), fallback_tag(subject)
        referrers = source.list_referrers(repo, subject)
        if referrers is None and stem in self._tags_of(source, repo):
            index = source.get_manifest(repo, stem)
            found.fallback_indexes[subject] = index
            referrers = list(index.children)
        refuse_long_listing(f"{repo}@{subject}: the referrers listing", len(referrers or ()))
        found.attachments += [Attachment("referrer", subject, r.digest, r) for r in referrers or ()]
        return found

    def prefetch(self, source: Reader, repo: str, pool: Executor) -> None:
        """Start listing the repository's tags in ``pool``, so that ``find`` finds them ready. A
        listing that fails is not kept: ``find`` asks again and reports that answer."""
        pool.submit(self._tags_of, source, repo)

    def _tags_of(self, source: Reader, repo: str) -> set[str]:
        key = (id(source), repo)
        with self._lock:
            listing = self._listing.setdefault(key, threading.Lock())
        with listing:  # artifacts of one repository wait for a single listing
            if key not in self._tags:
                self._tags[key] = set(source.tags(repo))
            return self._tags[key]


def refuse_long_listing(what: str, count: int) -> None:
    """Fail before fetching anything a listing of more than MAX_LISTED manifests names."""
    if count > MAX_LISTED:
        raise RegistryError(
            f"{what} names {count} manifests, more than the {MAX_LISTED} nvcf-mirror copies; "
            f"refusing a listing that looks broken ({setting('no_signatures')} skips it)"
        )


def referrer_tag(attachment: Attachment) -> str:
    """The tag a referrer is kept under where the target refuses it by digest:
    ``sha256-<subject hex>.<first 16 hex of the referrer>.ref``."""
    return f"{fallback_tag(attachment.subject)}.{attachment.reference.partition(':')[2][:16]}.ref"


def merged_index(current: Manifest | None, referrers: list[Descriptor]) -> Manifest:
    """A fallback-tag index listing what ``current`` lists and ``referrers``, each once."""
    entries = list(current.body.get("manifests") or []) if current else []
    listed = {e.get("digest") for e in entries}
    entries += [r.as_json() for r in referrers if r.digest not in listed]
    data = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, separators=(",", ":")
    ).encode()
    return Manifest.from_bytes(data, OCI_INDEX)


def subset_note(found: Found, top: str | None, cut_from: str | None) -> str | None:
    """Say so when the source's signatures sign the index a platform subset was cut from, and none
    signs ``top``, what the target tag will point at."""
    if cut_from is None or top is None or not found.covers(cut_from) or found.covers(top):
        return None
    return (
        f"the source's signatures sign the index {cut_from}, not this platform subset: "
        f"mirror with {setting('all_platforms')} to keep them valid"
    )
