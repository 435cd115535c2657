"""What changes between two releases: the artifacts one selection adds, removes and changes (same type
and name, another version) against another. Either side is a manifest file, a bundled release's
manifest, or what a bundle's lock lists (the selection that bundle was saved with)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provider_helper import manifest as manifest_mod
from provider_helper.artifacts import Artifact
from provider_helper.errors import InputError
from provider_helper.fsutil import read_bounded
from provider_helper.mirror.bundles import LOCK_FILE, MAX_LOCK_BYTES, read_lock_bytes
from provider_helper.selection import ArtifactManifest
from provider_helper.splitarchive import split_archive

UNPINNED = "<unpinned>"
RELEASE_RE = re.compile(r"v\d+(\.\d+)*")


@dataclass(frozen=True)
class Listed:
    """One artifact as a side of the diff lists it."""

    type: str
    name: str
    version: str
    group: str
    source: str


@dataclass(frozen=True)
class Changed:
    type: str
    name: str
    from_: str
    to: str
    group: str
    source_from: str
    source_to: str

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.type,
            "name": self.name,
            "from": self.from_,
            "to": self.to,
            "group": self.group,
            "source_from": self.source_from,
            "source_to": self.source_to,
        }


@dataclass
class ManifestDiff:
    old: str
    new: str
    added: list[Listed] = field(default_factory=list)
    removed: list[Listed] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "added": [asdict(a) for a in self.added],
            "removed": [asdict(r) for r in self.removed],
            "changed": [c.as_dict() for c in self.changed],
        }


@dataclass(frozen=True)
class GroupChoice:
    """Which artifacts of a manifest count (a lock lists its bundle's selection and is taken whole)."""

    groups: tuple[str, ...] = ()
    all_groups: bool = False


def listed(side: str, selection: GroupChoice) -> tuple[list[Listed], set[str] | None]:
    """The artifacts ``side`` names, and the groups its manifest knows (None for a lock)."""
    path = Path(side)
    if not path.exists() and split_archive(path) is None:
        if not RELEASE_RE.fullmatch(side):
            raise InputError(f"{side}: no such manifest, bundle or lock file, and not a bundled release name")
        path = manifest_mod.bundled_path(side, as_diff_side=True)
    lock = _lock_of(path)
    if lock is not None:
        return _from_lock(lock, side), None
    loaded = manifest_mod.load(path)
    return _from_manifest(loaded, selection), {g.name for g in loaded.groups}


def _lock_of(path: Path) -> dict[str, Any] | None:
    """The lock when ``path`` is a bundle (layout directory, .tar, split .tar) or a lock file; None for a manifest."""
    if not (path.is_dir() or path.suffix == ".tar" or split_archive(path) is not None or path.name == LOCK_FILE):
        try:
            head = read_bounded(path, MAX_LOCK_BYTES, "a manifest or lock file")[:1].strip()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
        if head != b"{":
            return None
    data, origin = read_lock_bytes(path)
    try:
        lock = json.loads(data)
    except ValueError:
        if path.name == LOCK_FILE or path.is_dir() or path.suffix == ".tar":
            raise InputError(f"{origin}: its lock is not valid JSON") from None
        return None  # a manifest written in JSON-flavoured YAML
    if not isinstance(lock, dict) or "apiVersion" in lock:
        return None
    if not isinstance(lock.get("artifacts"), list):
        raise InputError(f"{origin}: not a lock written by 'nvcf-mirror save' (no artifacts list)")
    return lock


def _from_manifest(loaded: ArtifactManifest, selection: GroupChoice) -> list[Listed]:
    known = {g.name for g in loaded.groups}
    if selection.all_groups:
        chosen = known
    else:
        chosen = set(selection.groups) & known if selection.groups else set(loaded.default_groups)
    return [_listed(a) for a in loaded.artifacts if a.group in chosen]


def _from_lock(lock: dict[str, Any], origin: str) -> list[Listed]:
    entries: list[dict[str, Any]] = [
        e["entry"] for e in lock["artifacts"] if isinstance(e, dict) and isinstance(e.get("entry"), dict)
    ]
    if len(entries) != len(lock["artifacts"]):
        raise InputError(f"{origin}: an artifact of its lock has no manifest entry (written by an older nvcf-mirror?)")
    groups = sorted({str(e.get("group")) for e in entries})
    doc = {"apiVersion": "nvcf-mirror/v1", "groups": [{"name": g} for g in groups], "artifacts": entries}
    return [_listed(a) for a in manifest_mod.parse(json.dumps(doc), f"{origin} ({LOCK_FILE})").artifacts]


def _listed(artifact: Artifact) -> Listed:
    return Listed(artifact.type, artifact.name, artifact.version_text or UNPINNED, artifact.group, artifact.source_text)


def diff(old: str, new: str, selection: GroupChoice = GroupChoice()) -> ManifestDiff:
    """Added, removed and changed artifacts from ``old`` to ``new``, each in ``new``'s (or ``old``'s) order."""
    before, old_groups = listed(old, selection)
    after, new_groups = listed(new, selection)
    known = (old_groups or set()) | (new_groups or set())
    unknown = [g for g in selection.groups if g not in known]
    if unknown:  # a group neither manifest knows is a typo, not an empty diff
        raise InputError(f"--group {unknown[0]}: no such group in {old} or {new} (groups: {', '.join(sorted(known))})")
    was = {(a.type, a.name): a for a in before}
    now = {(a.type, a.name): a for a in after}
    result = ManifestDiff(old, new)
    result.added = [a for key, a in now.items() if key not in was]
    result.removed = [a for key, a in was.items() if key not in now]
    result.changed = [
        Changed(a.type, a.name, was[key].version, a.version, a.group, was[key].source, a.source)
        for key, a in now.items()
        if key in was and was[key].version != a.version
    ]
    return result


def table_lines(result: ManifestDiff) -> list[str]:
    """One line per artifact: ``+`` added, ``-`` removed, ``~`` changed (from -> to), then the counts."""
    rows = [("+", a.type, a.name, a.version, a.group) for a in result.added]
    rows += [("-", r.type, r.name, r.version, r.group) for r in result.removed]
    rows += [("~", c.type, c.name, f"{c.from_} -> {c.to}", c.group) for c in result.changed]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(4)]
    lines = [
        " ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + f"  ({row[4]})"
        for row in rows
    ]
    counts = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    lines.append(f"{counts}: {result.old} -> {result.new}")
    return lines
