"""Differential bundles: what an earlier bundle holds, so that ``save --since BASE`` leaves it out,
and what ``load`` of such a bundle needs the target to hold already.

A bundle's lock (``nvcf-mirror.lock.json``, version 2) lists, for every artifact of the selection,
each manifest it takes (the artifact's own, its platform manifests and what is attached to it) with
the blobs and manifests that manifest needs. A version-1 lock (written before differential bundles)
lists only the artifacts' and attachments' digests: what such a manifest needs is unknown, so a
differential bundle over it leaves out whole unchanged artifacts only. The format is a contract
(docs/CONTRACTS.md, "The lock file of a saved layout").
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from provider_helper.errors import DeniedError, InputError, NotFoundError
from provider_helper.fsutil import atomic_write, open_regular_file, read_bounded
from provider_helper.oci.manifest import Manifest
from provider_helper.oci.reference import DIGEST_RE
from provider_helper.splitarchive import PartsReader, split_archive, verified_parts

LOCK_FILE = "nvcf-mirror.lock.json"
LOCK_VERSION = 2
MAX_LOCK_BYTES = 16 * 1024 * 1024  # a lock of 1,000 artifacts is about 2 MiB

# What a lock says one manifest needs: {"blobs": [{"digest", "size"}], "manifests": [digest]}; None: not known.
Needs = dict[str, Any] | None


@dataclass
class Holdings:
    """Everything a bundle's selection holds, read from its lock: after it was loaded, the target has it."""

    origin: str  # the bundle or lock file it was read from
    lock_digest: str  # sha256 of the lock file's bytes: names the base in a differential bundle
    manifests: dict[str, Needs] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)  # (repository name, tag) -> digest

    def holds(self, digest: str) -> bool:
        return digest in self.manifests or digest in self.blobs

    def named(self) -> str:
        return f"{self.origin} (lock {self.lock_digest[:19]})"


def read_lock_bytes(path: Path) -> tuple[bytes, str]:
    """A bundle's lock, from its layout directory, its .tar, or the lock file itself."""
    if path.is_dir():
        path = path / LOCK_FILE
    split = split_archive(path)
    if split is not None:
        with tarfile.open(fileobj=PartsReader(verified_parts(split)), mode="r|") as tar:
            for member in tar:
                if member.name == LOCK_FILE and member.isfile() and member.size <= MAX_LOCK_BYTES:
                    handle = tar.extractfile(member)
                    assert handle is not None
                    return handle.read(), str(split)
        raise InputError(f"{split}: not a bundle written by 'nvcf-mirror save' (no {LOCK_FILE} in it)")
    if path.suffix == ".tar" and path.is_file():
        try:
            with open_regular_file(path) as handle, tarfile.open(fileobj=handle) as tar:
                member = tar.getmember(LOCK_FILE)
                handle = tar.extractfile(member) if member.isfile() and member.size <= MAX_LOCK_BYTES else None
                if handle is None:
                    raise InputError(f"{path}: its {LOCK_FILE} is not a regular file of at most {MAX_LOCK_BYTES} bytes")
                return handle.read(), str(path)
        except KeyError:
            raise InputError(f"{path}: not a bundle written by 'nvcf-mirror save' (no {LOCK_FILE} in it)") from None
        except (tarfile.TarError, OSError) as exc:
            raise InputError(f"{path}: not a readable tar archive ({exc})") from None
    try:
        return read_bounded(path, MAX_LOCK_BYTES, "a lock file"), str(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such bundle or lock file") from None


def checked_needs(manifests: Any, where: str) -> dict[str, Needs]:
    """An artifact's ``manifests`` from a lock, refused unless every key and listed digest is a digest by
    the OCI grammar and every size a count: they become registry URLs and file names."""
    if manifests is None:
        return {}
    if not isinstance(manifests, dict):
        raise InputError(f"{where}: 'manifests' is not an object of digests")
    for digest, needs in manifests.items():
        digests = [digest]
        if needs is not None:
            blobs, children = (needs.get("blobs"), needs.get("manifests")) if isinstance(needs, dict) else (None, None)
            if (
                not isinstance(blobs, list)
                or not isinstance(children, list)
                or not all(isinstance(b, dict) and isinstance(b.get("size"), int) and b["size"] >= 0 for b in blobs)
            ):
                raise InputError(
                    f"{where}: what manifest {str(digest)[:80]!r} needs is not blobs (digest, size) and manifests"
                )
            digests += [b.get("digest") for b in blobs] + children
        bad = next((d for d in digests if not isinstance(d, str) or not DIGEST_RE.fullmatch(d)), None)
        if bad is not None:
            raise InputError(f"{where}: {str(bad)[:80]!r} is not a valid digest")
    return manifests


def read_base(path: Path) -> Holdings:
    """``--since BASE``: what the earlier bundle holds."""
    data, origin = read_lock_bytes(path)
    try:
        lock = json.loads(data)
    except ValueError:
        raise InputError(f"{origin}: its lock is not valid JSON") from None
    if (
        not isinstance(lock, dict)
        or lock.get("version") not in (1, LOCK_VERSION)
        or not isinstance(lock.get("artifacts"), list)
    ):
        raise InputError(f"{origin}: not a lock written by 'nvcf-mirror save' (version 1 or {LOCK_VERSION})")
    held = Holdings(origin, "sha256:" + hashlib.sha256(data).hexdigest())
    for entry in lock["artifacts"]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("name", "tag", "digest")):
            raise InputError(f"{origin}: an artifact entry lacks name, tag or digest")
        if not DIGEST_RE.fullmatch(entry["digest"]):
            raise InputError(f"{origin}: {entry['digest'][:80]!r} is not a valid digest")
        held.tags[(entry["name"], entry["tag"])] = entry["digest"]
        for attached in entry.get("attached") or []:
            if (
                isinstance(attached, dict)
                and isinstance(attached.get("reference"), str)
                and isinstance(attached.get("digest"), str)
            ):
                held.tags.setdefault((entry["name"], attached["reference"]), attached["digest"])
                held.manifests.setdefault(attached["digest"], None)
        held.manifests.setdefault(entry["digest"], None)
        for digest, needs in checked_needs(entry.get("manifests"), f"{origin}: {entry.get('key')}").items():
            if needs is not None:
                held.manifests[digest] = needs
                held.blobs.update(b["digest"] for b in needs.get("blobs") or [])
    return held


def needs_of(digests: Iterable[str], read: Callable[[str], Manifest | None], base: Holdings | None) -> dict[str, Needs]:
    """What each manifest reachable from ``digests`` needs: read from the layout where it is there,
    else taken from the base's lock (None where neither knows)."""
    found: dict[str, Needs] = {}
    pending = list(digests)
    while pending:
        digest = pending.pop()
        if digest in found:
            continue
        manifest = read(digest)
        if manifest is not None:
            needs: Needs = {
                "blobs": [{"digest": b.digest, "size": b.size} for b in manifest.blobs],
                "manifests": [c.digest for c in manifest.children],
            }
        else:
            needs = base.manifests.get(digest) if base is not None else None
        found[digest] = needs
        if needs is not None:
            pending += needs.get("manifests") or []
    return found


def base_of(lock: dict[str, Any]) -> dict[str, str] | None:
    """The base a differential bundle's lock names (``{"lock": digest, "from": path}``), or None."""
    base = lock.get("base")
    return base if isinstance(base, dict) and isinstance(base.get("lock"), str) else None


class Holder(Protocol):
    """The registry calls the check makes of the target."""

    def head_manifest(self, repo: str, reference: str) -> str | None: ...
    def has_blob(self, repo: str, digest: str) -> bool: ...


@dataclass
class Missing:
    """What a differential bundle leaves out and the target does not hold."""

    items: list[str] = field(default_factory=list)
    # (digest, repository needing it, repository holding it)
    mounts: list[tuple[str, str, str]] = field(default_factory=list)


def left_out_at_target(
    entries: list[dict[str, Any]], in_bundle: Callable[[str], bool], target: Holder, prefix: str
) -> Missing:
    """Check the target holds every manifest and blob the bundle leaves out, in the repository that needs
    it or (a blob) in another repository of the prefix it can be mounted from."""
    result = Missing()
    repos = [f"{prefix}/{e['name']}" if prefix else e["name"] for e in entries]
    answers: dict[
        tuple[str, str, str], Any
    ] = {}  # one question per repository and digest, however many entries share it

    def _asked(question: Callable[[str, str], Any], repo: str, digest: str) -> Any:
        key = (question.__name__, repo, digest)
        if key not in answers:
            answers[key] = _ask(question, repo, digest)
        return answers[key]

    for entry, repo in zip(entries, repos, strict=True):
        # the artifact's own manifest is checked even where a (crafted) lock does not list it among its manifests
        manifests: dict[str, Needs] = {entry["digest"]: None, **(entry.get("manifests") or {})}
        for digest, needs in manifests.items():
            if not in_bundle(digest):  # a registry holds a manifest only with its blobs: they need no check
                if _asked(target.head_manifest, repo, digest) is None:
                    result.items.append(f"manifest {digest[:19]} of {entry['key']}")
                continue
            for blob in (needs or {}).get("blobs") or []:
                if in_bundle(blob["digest"]) or _asked(target.has_blob, repo, blob["digest"]):
                    continue
                holder = next(
                    (
                        other
                        for other in dict.fromkeys(repos)
                        if other != repo and _asked(target.has_blob, other, blob["digest"])
                    ),
                    None,
                )
                if holder is None:
                    result.items.append(f"blob {blob['digest'][:19]} of {entry['key']}")
                else:
                    result.mounts.append((blob["digest"], repo, holder))
    return result


def _ask(question: Callable[[str, str], Any], repo: str, digest: str) -> Any:
    """A question to the target; a repository that does not exist (yet) answers no."""
    try:
        return question(repo, digest)
    except (DeniedError, NotFoundError):
        return None


def write_lock_file(root: Path, artifacts: list[dict[str, Any]], base: Holdings | None) -> None:
    # the base's file name, not its path: the connected side's folders are no business of the bundle's readers
    base_named = {"lock": base.lock_digest, "from": _bundle_name(base.origin)} if base else None
    lock = {"version": LOCK_VERSION, "base": base_named, "artifacts": artifacts}
    atomic_write(root / LOCK_FILE, json.dumps(lock, indent=2) + "\n")


def _bundle_name(origin: str) -> str:
    """A base's name as a differential lock records it: its .tar or folder, or its lock file's own name."""
    path = Path(origin)
    return path.parent.name if path.name == LOCK_FILE and path.parent.name else path.name
