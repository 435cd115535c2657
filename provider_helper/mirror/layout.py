"""An OCI image layout on disk, as a copy target (``save``) and as a source (``load``).


The layout itself is a content store like a registry (``content.layout.Layout``): ``save`` writes
through the same copy engine, so saving gets the same verification, concurrency and resumability,
and ``load`` reads a saved bundle (``LayoutSource``) through the same calls. This module holds the
bundle as ``load`` reads it; its lock file is ``bundle_lock``'s, the folders a save writes into and
their trust checks ``saving``'s, the ``.tar`` (or its parts) it travels as ``packing``'s.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from provider_helper import manifest as manifest_mod
from provider_helper.archive_members import DEFAULT_LIMITS, ArchiveError, ExtractLimits
from provider_helper.archives import extract_once
from provider_helper.content.layout import Layout, blob_file, check_layout_blob, read_json_object, read_manifest
from provider_helper.content.store import Reader
from provider_helper.errors import DigestMismatchError, InputError, NotFoundError, RegistryError
from provider_helper.mirror.bundle_lock import check_entry
from provider_helper.mirror.bundles import LOCK_FILE, MAX_LOCK_BYTES, base_of
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Selection
from provider_helper.mirror.sources import Payload
from provider_helper.oci.manifest import Descriptor, Manifest
from provider_helper.oci.reference import DIGEST_RE, Target
from provider_helper.splitarchive import PartsReader, listed_parts, split_archive

LAYOUT_TARGET = Target("oci-layout", "")  # names artifacts "name:tag", no registry, no prefix


class LayoutSource:
    """Read a saved layout (directory or .tar): its artifacts as jobs, their content as payloads."""

    def __init__(self, path: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        split = split_archive(path)
        if split is None and not path.exists():
            raise InputError(f"{path}: no such bundle (a layout directory, a .tar, or the parts of a split .tar)")
        if split is not None or (path.is_file() and path.suffix == ".tar"):
            listed = listed_parts(split) if split is not None else None
            # One read of the bundle, into a private folder this run made: each entry is written from the read
            # it was checked on, each part hashed as it is read; on any refusal the folder is removed.
            parts = PartsReader([p for p, _ in listed], [d for _, d in listed], split) if listed is not None else None
            self._tmp = tempfile.TemporaryDirectory(prefix="nvcf-mirror-layout-")
            try:
                extract_once(split or path, Path(self._tmp.name), limits, parts=parts)
            except ArchiveError as exc:
                self.close()
                raise InputError(f"refusing the layout archive: {exc}") from None
            except BaseException:
                self.close()
                raise
            path = Path(self._tmp.name)
        if not (path / "index.json").is_file() or not (path / LOCK_FILE).is_file():
            raise InputError(
                f"{path}: not a layout written by 'nvcf-mirror save' (index.json and {LOCK_FILE} expected)"
            )
        self.root = path
        self.layout = Layout(path)
        self.lock = read_json_object(path / LOCK_FILE, MAX_LOCK_BYTES) or {}
        for entry in self.lock.get("artifacts") or []:
            check_entry(entry, path / LOCK_FILE)
        self.base = base_of(self.lock)  # a differential bundle (save --since): what it leaves out is at the target
        self._left_out_from: Reader | None = None  # where the manifests a differential bundle leaves out are read

    def read_left_out_from(self, target: Reader) -> None:
        """Read the manifests this differential bundle leaves out from ``target``: called by the use case
        once it has checked the target holds everything the bundle leaves out. Until then such a manifest
        is an error, never a silent read elsewhere."""
        self._left_out_from = target

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def jobs(self, target: Target) -> list[Job]:
        entries = self.lock.get("artifacts") or []
        groups = sorted({e["group"] for e in entries})
        doc = {
            "apiVersion": "nvcf-mirror/v1",
            "groups": [{"name": g} for g in groups],
            "artifacts": [e["entry"] for e in entries],
        }
        artifacts = manifest_mod.parse(json.dumps(doc), str(self.root / LOCK_FILE)).artifacts
        for artifact, e in zip(artifacts, entries, strict=True):
            if artifact.key != e["key"]:
                raise InputError(
                    f"{self.root / LOCK_FILE}: the entry keyed {e['key'][:120]!r} describes {artifact.key[:120]!r}"
                )
        return [
            Job(artifact, target.reference(e["name"], e["tag"]), None, None)
            for artifact, e in zip(artifacts, entries, strict=True)
        ]

    def has(self, digest: str) -> bool:
        """Whether the bundle holds this blob or manifest (a differential one leaves out what its base holds)."""
        return blob_file(self.root, digest).exists()

    def _left_out(self, digest: str) -> bool:
        """Left out of a differential bundle: its base held it, so the target has it."""
        return self.base is not None and not self.has(digest)

    def payload(self, job: Job, *, check_blobs: bool = True) -> Payload:
        """The artifact as saved; with ``check_blobs`` every blob is hashed before anything is pushed."""
        entry = next(e for e in self.lock["artifacts"] if e["key"] == job.key)
        if not self._left_out(entry["digest"]) and self.layout.tagged(entry["name"], entry["tag"]) != entry["digest"]:
            raise DigestMismatchError(f"{job.key}: index.json and {LOCK_FILE} disagree on its digest")
        top = self._manifest(job.target.repository, entry["digest"])
        children = [self._manifest(job.target.repository, d.digest) for d in top.children]
        if check_blobs:
            for blob in {b.digest: b for m in [top, *children] for b in m.blobs}.values():
                if not self._left_out(blob.digest):
                    check_layout_blob(self.root, blob)
        return Payload.ready(
            Selection(top, children, list(entry.get("platforms") or [])), self, entry["name"], attached=True
        )

    def _manifest(self, repo: str, digest: str) -> Manifest:
        if self._left_out(digest):
            if self._left_out_from is None:
                raise RegistryError(
                    f"manifest {digest} is left out of this differential bundle and was not looked up at the target"
                )
            return self._left_out_from.get_manifest(repo, digest)
        return read_manifest(self.root, digest)

    # -- the store its payloads are read from: the layout, with what a differential bundle leaves out --

    def head_manifest(self, repo: str, reference: str) -> str | None:
        return self.layout.head_manifest(repo, reference)

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        return (
            self._manifest(repo, reference)
            if DIGEST_RE.fullmatch(reference)
            else self.layout.get_manifest(repo, reference)
        )

    def tags(self, repo: str) -> list[str]:
        return self.layout.tags(repo)

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        return None  # saved under the fallback tag

    def open_blob(self, repo: str, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        if self._left_out(digest):
            raise NotFoundError(
                f"blob {digest} is not in the bundle {self.root} (a differential bundle leaves out "
                "what its base holds: load the base first)"
            )
        return self.layout.open_blob(repo, digest)

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        return self.layout.read_blob(repo, digest, max_bytes)


_CHECKED: type[Reader] = LayoutSource  # mypy checks the class against the protocol here
