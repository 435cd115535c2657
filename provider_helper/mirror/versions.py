"""Versions that follow the publisher: ``--set-version NAME=latest``, classic charts spelt with or
without ``v``, and what ``outdated`` lists.

Runs between selection and plan: manifest → select → **versions** → plan. Versions are ordered
by semantic version (``v`` prefixes understood, tags that are not versions ignored); NGC resources
name their own latest (``latestVersionIdStr``), as the ngc CLI reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from provider_helper.errors import RegistryError
from provider_helper.manifest import Artifact

LATEST = "latest"
_VERSION_RE = re.compile(r"v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?(?:[+_]([0-9A-Za-z.-]+))?", re.ASCII)

VersionKey = tuple[int, int, int, tuple[tuple[int, int | str], ...] | None]


def version_key(text: str) -> VersionKey | None:
    """A sort key by semantic version; None for a tag that is not a version. A release sorts after
    its pre-releases (``1.2.0-rc1`` < ``1.2.0``)."""
    match = _VERSION_RE.fullmatch(text)
    if not match:
        return None
    pre = match[4]
    pre_key = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else None
    return (int(match[1]), int(match[2]), int(match[3] or 0), pre_key)


def _order(key: VersionKey) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    major, minor, patch, pre = key
    return (major, minor, patch, 0 if pre is not None else 1, pre or ())


def newest(versions: Iterable[str]) -> str | None:
    """The newest release, or the newest pre-release when there is no release at all."""
    keyed = [(k, v) for v in versions if (k := version_key(v)) is not None]
    releases = [(k, v) for k, v in keyed if k[3] is None]
    pool = releases or keyed
    return max(pool, key=lambda kv: _order(kv[0]))[1] if pool else None


def newer(current: str, versions: Iterable[str]) -> list[str]:
    """The versions newer than ``current``, oldest first (``current`` itself need not be a version)."""
    base = version_key(current)
    keyed = sorted(((k, v) for v in set(versions) if (k := version_key(v)) is not None), key=lambda kv: _order(kv[0]))
    if base is None:
        return []
    return [v for k, v in keyed if _order(k) > _order(base)]


class Available(Protocol):
    """Where an artifact's published versions are looked up (registry tags, Helm index, NGC)."""

    def versions(self, artifact: Artifact) -> list[str]: ...

    def latest(self, artifact: Artifact) -> str: ...


@dataclass
class Resolver:
    available: Available

    def resolve(self, artifacts: list[Artifact], latest: Iterable[str]) -> list[Artifact]:
        """Pin the artifacts named in ``latest`` to their newest version; spell classic chart versions
        as their repository does (``25.3.1`` found as ``v25.3.1``)."""
        wanted = set(latest)
        resolved = []
        for artifact in artifacts:
            if artifact.name in wanted and artifact.version_text == LATEST:  # not another entry of the name, pinned by NAME:TAG
                artifact = artifact.pinned(self.available.latest(artifact), resolved_from=LATEST)
            elif artifact.is_classic_chart and artifact.version:
                artifact = artifact.pinned(self._spelling(artifact), resolved_from=artifact.resolved_from)
            resolved.append(artifact)
        return resolved

    def _spelling(self, artifact: Artifact) -> str:
        version = artifact.version or ""
        try:
            published = self.available.versions(artifact)
        except (RegistryError, OSError):
            return version  # the index cannot be read now: the copy of this chart reports why
        for candidate in (version, version.removeprefix("v"), f"v{version}"):
            if candidate in published:
                return candidate
        return version  # not published: the copy reports it with the versions that are


def latest_from(versions: Callable[[], list[str]], what: str) -> str:
    found = newest(versions())
    if found is None:
        raise RegistryError(f"{what} has no published version to call latest")
    return found
