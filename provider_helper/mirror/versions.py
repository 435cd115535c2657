"""Versions that follow the publisher: ``--set-version NAME=latest``, classic charts spelt with or
without ``v``, and what ``outdated`` lists.

Runs between selection and plan: manifest → select → **versions** → plan. Versions are ordered
by semantic version (``v`` prefixes understood, tags that are not versions ignored), within a tag's
flavour (``-nonroot``, ``-nv-1``: the words after the version, pre-release words aside); NGC resources
name their own latest (``latestVersionIdStr``), as the ngc CLI reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from provider_helper.artifacts import Artifact
from provider_helper.errors import RegistryError
from provider_helper.selection import LATEST as LATEST  # what callers of the resolution name the pin

_VERSION_RE = re.compile(
    r"v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?(?:[+_]([0-9A-Za-z.-]+))?", re.ASCII
)

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


PRE_RELEASE_WORDS = frozenset({"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot"})


def _suffix_words(text: str) -> list[str]:
    version = _VERSION_RE.fullmatch(text)
    return [w.lower() for w in re.findall(r"[A-Za-z]+", version[4])] if version and version[4] else []


def flavour(text: str) -> tuple[str, ...]:
    """Which build of a version a tag names: the words of its suffix, pre-release words aside
    (``0.19.2-nonroot``: nonroot; ``2.2.2-nv-1`` and ``2.5.1-nv-1.1.0``: nv; ``1.2.0-rc1`` and ``1.2.0``: none)."""
    return tuple(w for w in _suffix_words(text) if w not in PRE_RELEASE_WORDS)


def _is_release(key: VersionKey, text: str) -> bool:
    """No suffix, or a flavour without pre-release words (``0.19.2-nonroot``, ``2.2.2-nv-1``); ``-rc1``
    and a bare ``-1`` are pre-releases."""
    words = _suffix_words(text)
    return key[3] is None or (bool(words) and not PRE_RELEASE_WORDS.intersection(words))


def _order(key: VersionKey) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    major, minor, patch, pre = key
    return (major, minor, patch, 0 if pre is not None else 1, pre or ())


def newest(versions: Iterable[str], like: str | None = None) -> str | None:
    """The newest release, or the newest pre-release when there is no release at all. ``like``: the
    pinned tag, whose flavour is kept (``0.19.2-nonroot`` gives the newest ``-nonroot`` version)."""
    keyed = _same_flavour([(k, v) for v in versions if (k := version_key(v)) is not None], like)
    releases = [(k, v) for k, v in keyed if _is_release(k, v)]
    pool = releases or keyed
    return max(pool, key=lambda kv: _order(kv[0]))[1] if pool else None


def newer(current: str, versions: Iterable[str]) -> list[str]:
    """The versions of ``current``'s flavour newer than it, oldest first (``current`` need not be a version)."""
    base = version_key(current)
    keyed = sorted(((k, v) for v in set(versions) if (k := version_key(v)) is not None), key=lambda kv: _order(kv[0]))
    if base is None:
        return []
    return [v for k, v in _same_flavour(keyed, current) if _order(k) > _order(base)]


def _same_flavour(keyed: list[tuple[VersionKey, str]], like: str | None) -> list[tuple[VersionKey, str]]:
    """Those of ``like``'s flavour. With no pinned version to follow (``like`` None or not a version),
    the versions without a flavour, or every version when none lacks one."""
    pinned = like is not None and version_key(like) is not None
    wanted = flavour(like) if like is not None and pinned else ()
    same = [(k, v) for k, v in keyed if flavour(v) == wanted]
    return same if same or pinned else keyed


class Available(Protocol):
    """Where an artifact's published versions are looked up (registry tags, Helm index, NGC)."""

    def versions(self, artifact: Artifact) -> list[str]: ...

    def latest(self, artifact: Artifact, like: str | None = None) -> str: ...


@dataclass
class Resolver:
    available: Available

    def resolve(
        self, artifacts: list[Artifact], latest: Iterable[str], pinned_before: Sequence[str | None] | None = None
    ) -> list[Artifact]:
        """Pin the entries the ``latest`` pins name (``NAME``, or ``NAME:TAG``: the entry the manifest listed at
        TAG) to their newest version, of the flavour of the version the manifest pinned for that entry
        (``pinned_before``, one per artifact, in order: a name listed twice has two); spell classic chart
        versions as their repository does (``25.3.1`` found as ``v25.3.1``)."""
        wanted = set(latest)
        before = list(pinned_before) if pinned_before is not None else [None] * len(artifacts)
        if len(before) != len(artifacts):
            raise ValueError("pinned_before names one version per artifact")
        resolved = []
        for artifact, was in zip(artifacts, before, strict=True):
            # the entry the pin names: not another entry of the name, nor one the manifest itself tags latest
            named = artifact.name in wanted or (was is not None and f"{artifact.name}:{was}" in wanted)
            if named and artifact.version_text == LATEST:
                newest_version = self.available.latest(artifact, was)
                artifact = artifact.pinned(newest_version, resolved_from=LATEST)
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


def latest_from(versions: Callable[[], list[str]], what: str, like: str | None = None) -> str:
    """The newest published version, of ``like``'s flavour when the pinned tag ``like`` has one."""
    published = versions()
    found = newest(published, like)
    if found is None:
        wanted = flavour(like) if like else ()
        if wanted:
            named = "-".join(wanted)
            raise RegistryError(f"{what} has no published version of the flavour -{named} (of {like}) to call latest")
        raise RegistryError(f"{what} has no published version to call latest")
    return found
