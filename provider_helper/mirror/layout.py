"""An OCI image layout on disk, as a copy target (``save``) and as a source (``load``).

The layout itself is a content store like a registry (``content.layout.Layout``): ``save`` writes
through the same copy engine, so saving gets the same verification, concurrency and resumability,
and ``load`` reads a saved bundle (``LayoutSource``) through the same calls. This module holds what
makes a layout a bundle: ``nvcf-mirror.lock.json`` lists every artifact with its digest and source,
for ``load`` and ``verify --from``; one writer at a time; the ``.tar`` (or its parts) it travels as.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from provider_helper import manifest as manifest_mod
from provider_helper.archives import DEFAULT_LIMITS, ArchiveError, ExtractLimits, extract_once
from provider_helper.content.layout import (
    REF_NAME,
    Layout,
    blob_file,
    check_layout_blob,
    manifest_if_there,
    read_json_object,
    read_manifest,
)
from provider_helper.content.store import Reader
from provider_helper.errors import DigestMismatchError, InputError, NotFoundError, RegistryError
from provider_helper.fsutil import create_private, is_private_dir, private_temp
from provider_helper.mirror.bundles import (
    LOCK_FILE,
    MAX_LOCK_BYTES,
    Holdings,
    base_of,
    checked_needs,
    needs_of,
    write_lock_file,
)
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Selection
from provider_helper.mirror.sources import Payload
from provider_helper.oci.digests import check_file
from provider_helper.oci.manifest import Descriptor, Manifest
from provider_helper.oci.reference import DIGEST_RE, Target, is_repository_path, is_tag
from provider_helper.results import ArtifactResult
from provider_helper.splitarchive import PartsReader, PartsWriter, listed_parts, split_archive

WRITER_LOCK = ".nvcf-mirror.writer"
STAGING_MARK = ".nvcf-mirror.staging"  # written by the save that made a .tar's staging folder
LAYOUT_TARGET = Target("oci-layout", "")  # names artifacts "name:tag", no registry, no prefix


def layout_for_saving(root: Path, base: Holdings | None = None) -> Layout:
    """The layout ``save`` writes, under ``writer_lock(root)``. What an earlier save left is checked before
    it is kept: every blob is hashed against its name (a file that is not a regular one, or does not match,
    is removed) and every index entry must name a valid digest whose blob is there. A layout another user
    could have written into (a folder of theirs, or one anyone may write to) is refused: what it holds
    could be planted whole."""
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for folder in (root, root / "blobs", root / "blobs" / "sha256"):
        _check_writable_by_this_user_only(folder)
    for name in ("index.json", LOCK_FILE):
        if (root / name).exists() and not _own_regular_file(root / name):
            raise InputError(f"{root / name}: not a regular file of this user: refusing to resume a save into {root}")
    _drop_unverified_blobs(root)
    layout = Layout.for_writing(root, base)
    layout.keep_entries(lambda entry: _kept_entry(root, entry))
    return layout


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One ``save`` at a time per layout: a second one fails at once with a clear line."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(root / WRITER_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise InputError(f"{root / WRITER_LOCK}: cannot be opened as this save's lock file ({exc.strerror})") from None
    with os.fdopen(fd, "r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{root}: another 'nvcf-mirror save' is writing to this layout; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_lock(root: Path, results: list[ArtifactResult], jobs: list[Job], base: Holdings | None = None) -> None:
    """What ``load``, ``verify --from`` and a later ``save --since`` need: each artifact, its manifest
    entry, its digest, and every manifest it takes with what that needs (``bundles``).

    Artifacts an earlier save into this layout listed stay listed (their blobs are still in the
    layout) unless this run saved them again."""
    previous = [
        e
        for e in (read_json_object(root / LOCK_FILE, MAX_LOCK_BYTES) or {}).get("artifacts") or []
        if _kept_lock_entry(root, e)
    ]
    entries = []
    for job, result in zip(jobs, results, strict=True):
        if result.status not in ("copied", "present") or result.digest is None:
            continue
        taken = [result.digest, *(a["digest"] for a in result.attached)]
        entries.append(
            {
                "key": result.key,
                "name": job.target.repository,
                "tag": job.target.reference,
                "source": result.source,
                "digest": result.digest,
                "platforms": result.platforms,
                "group": result.group,
                "entry": job.artifact.entry(),
                "attached": result.attached,
                "manifests": needs_of(taken, lambda digest: manifest_if_there(root, digest), base),
            }
        )
    saved = {e["key"] for e in entries}
    merged = [e for e in previous if isinstance(e, dict) and e.get("key") not in saved] + entries
    write_lock_file(root, merged, base)


def staging_for(archive: Path) -> Path:
    """The folder ``save --to DIR/x.tar`` writes into before packing it: ``DIR/x.tar.partial``, made by
    this save (mode 0700, with a marker), or resumed from an earlier killed save only when it is provably
    this user's: a real folder of this user, 0700, holding the marker as a regular file of this user.
    Anything else there (another user's folder, a link, a folder anyone may write to) is refused: its
    content could have been planted."""
    staging = archive.with_name(archive.name + ".partial")
    archive.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(staging, 0o700)
    except FileExistsError:
        if not is_private_dir(staging) or not _own_regular_file(staging / STAGING_MARK):
            raise InputError(
                f"{staging}: already exists and is not a staging folder an earlier save of this user "
                "made (owned by you, mode 0700, with its marker): remove it, or save elsewhere"
            ) from None
        return staging
    with create_private(staging / STAGING_MARK) as mark:
        mark.write(f"nvcf-mirror save staging for {archive.name}, uid {os.getuid()}\n".encode())
    return staging


def _check_writable_by_this_user_only(folder: Path) -> None:
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise InputError(
            f"{folder}: a folder another user could have written into (not yours, a link, or writable by "
            "others): refusing to save into it; save to a folder of your own"
        )


def _own_regular_file(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid()


def _drop_unverified_blobs(root: Path) -> None:
    """Remove every blob an earlier save left that is not a regular file matching its name."""
    folder = root / "blobs" / "sha256"
    for item in os.scandir(folder):
        path = Path(item.path)
        if item.is_dir(follow_symlinks=False):
            raise InputError(
                f"{path}: a folder where the layout keeps blobs; not a layout written by 'nvcf-mirror save'"
            )
        keep = (
            item.is_file(follow_symlinks=False)
            and item.stat(follow_symlinks=False).st_uid == os.getuid()
            and DIGEST_RE.fullmatch(f"sha256:{item.name}") is not None
        )
        if keep:
            try:
                check_file(path, f"sha256:{item.name}", None, f"blob {item.name} left by an earlier save")
            except (DigestMismatchError, InputError):
                keep = False
        if not keep:
            path.unlink(missing_ok=True)


def _kept_entry(root: Path, entry: dict[str, Any]) -> bool:
    """An index entry of an earlier save is kept when it names a valid digest whose blob is in the layout."""
    digest = entry.get("digest")
    ref = (entry.get("annotations") or {}).get(REF_NAME) if isinstance(entry.get("annotations"), dict) else None
    return (
        isinstance(digest, str)
        and DIGEST_RE.fullmatch(digest) is not None
        and isinstance(ref, str)
        and _complete(root, digest)
    )


def _complete(root: Path, digest: str, depth: int = 0) -> bool:
    """Whether the manifest ``digest`` and everything it needs (blobs, child manifests) are in the layout:
    an entry whose blob was dropped is saved again, not reported present."""
    try:
        manifest = read_manifest(root, digest)
    except (InputError, RegistryError, ValueError):
        return False
    return (
        all(blob_file(root, b.digest).is_file() for b in manifest.blobs)
        and depth < 2
        and all(_complete(root, c.digest, depth + 1) for c in manifest.children)
    )


def _kept_lock_entry(root: Path, entry: Any) -> bool:
    """A lock entry of an earlier save is kept when it passes the checks ``load`` makes and its manifest is there."""
    try:
        _check_entry(entry, root / LOCK_FILE)
    except InputError:
        return False
    return blob_file(root, entry["digest"]).is_file()


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
            _check_entry(entry, path / LOCK_FILE)
        self.base = base_of(self.lock)  # a differential bundle (save --since): what it leaves out is at the target
        # Reads a manifest the bundle leaves out, from the target: (repository, digest) -> Manifest. Set by the
        # command once it has checked the target holds everything left out.
        self.read_left_out: Callable[[str, str], Manifest] | None = None

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
            if self.read_left_out is None:
                raise RegistryError(
                    f"manifest {digest} is left out of this differential bundle and was not looked up at the target"
                )
            return self.read_left_out(repo, digest)
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


def _check_entry(entry: Any, lock: Path) -> None:
    """A lock entry's name, tag and digest become repository paths, tags and file names: refuse any
    that is not what the grammar allows (``../victim/app``, ``sha256:../../dev/zero``)."""
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("key", "name", "tag", "digest")):
        raise InputError(f"{lock}: an artifact entry lacks key, name, tag or digest")
    if not is_repository_path(entry["name"]):
        raise InputError(f"{lock}: {entry['key']}: name {entry['name']!r} is not a repository path")
    if not is_tag(entry["tag"]):
        raise InputError(f"{lock}: {entry['key']}: tag {entry['tag']!r} is not a valid tag")
    if not DIGEST_RE.fullmatch(entry["digest"]):
        raise InputError(f"{lock}: {entry['key']}: digest {entry['digest'][:80]!r} is not a valid digest")
    checked_needs(entry.get("manifests"), f"{lock}: {entry['key']}")


def pack(staging: Path, archive: Path, part_size: int | None = None) -> None:
    """A single .tar of the layout (written aside, then renamed into place), or with ``part_size`` its
    parts ``archive.000``, ``.001``, … and the checksum list ``archive.sha256`` (``splitarchive``)."""
    files = [
        path
        for path in sorted(staging.rglob("*"))
        if stat.S_ISREG(path.lstat().st_mode) and not path.name.startswith(".")
    ]
    if part_size is None:
        temp, out = private_temp(archive)
        try:
            with out, tarfile.open(fileobj=out, mode="w") as tar:
                for path in files:
                    tar.add(path, arcname=str(path.relative_to(staging)))
            os.replace(temp, archive)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    else:
        parts = PartsWriter(archive, part_size)
        with tarfile.open(fileobj=parts, mode="w|") as tar:
            for path in files:
                tar.add(path, arcname=str(path.relative_to(staging)))
        parts.commit()
    shutil.rmtree(staging)


_CHECKED: type[Reader] = LayoutSource  # mypy checks the class against the protocol here
