"""The bundle's lock file, ``nvcf-mirror.lock.json``, as a save writes it and as ``load`` checks its
entries: each artifact with its manifest entry, digest, source and the manifests it takes (what
``load``, ``verify --from`` and a later ``save --since`` read; the format is in docs/CONTRACTS.md,
"The lock file of a saved layout").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provider_helper.content.layout import blob_file, manifest_if_there, read_json_object
from provider_helper.errors import InputError
from provider_helper.mirror.bundles import LOCK_FILE, MAX_LOCK_BYTES, Holdings, checked_needs, needs_of, write_lock_file
from provider_helper.mirror.plan import Job
from provider_helper.oci.reference import DIGEST_RE, is_repository_path, is_tag
from provider_helper.results import ArtifactResult


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


def _kept_lock_entry(root: Path, entry: Any) -> bool:
    """A lock entry of an earlier save is kept when it passes the checks ``load`` makes and its manifest is there."""
    try:
        check_entry(entry, root / LOCK_FILE)
    except InputError:
        return False
    return blob_file(root, entry["digest"]).is_file()


def check_entry(entry: Any, lock: Path) -> None:
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
