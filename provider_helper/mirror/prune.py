"""Which tags an upgrade leaves behind, and what is attached to them: in each repository the selection
names (and only those), every tag the selection does not list, with the cosign tags
(``sha256-<hex>.sig|.att|.sbom``), the referrers fallback index (``sha256-<hex>``) and the referrers
attached to the digests those tags point at. A digest a kept tag points at (or one of its platform
manifests, or what is attached to them) is never removed; a superseded tag that shares it is
removed only where the registry can untag without deleting the manifest (ECR), else it stays and
is reported.

Deciding reads the target only (``plan_prune``); removing goes through a ``Remover``, whose kind the
target decides: ECR's control plane, or the distribution API's manifest DELETE."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from provider_helper.aws import ecr
from provider_helper.content.store import Reader
from provider_helper.errors import InputError, NotFoundError, RegistryError, UnsupportedError

ATTACHED_TAG = re.compile(r"sha256-(?P<hex>[0-9a-f]{64})(?:\.(?P<kind>sig|att|sbom))?")
Why = Literal["superseded", "untagged", "attached", "referrer"]


@dataclass(frozen=True)
class Removal:
    repo: str
    tag: str | None  # None: an untagged referrer, removed by digest
    digest: str
    size: int  # the manifest and the blobs it names (of its platform manifests too, for an index)
    why: Why  # untagged: a superseded tag whose digest a kept tag shares, where the registry untags
    subject: str | None = None  # what an attached tag or referrer is attached to

    def line(self) -> str:
        where = f"{self.repo}:{self.tag}" if self.tag else f"{self.repo}@{self.digest}"
        about = f" (attached to {self.subject[:19]})" if self.subject else ""
        return f"{where}  {self.digest[:19]}  {self.size} B  {self.why}{about}"


@dataclass(frozen=True)
class Kept:
    """A superseded tag left in place: its digest is one a kept tag points at, and the registry cannot untag."""

    repo: str
    tag: str
    digest: str
    shared_with: str


@dataclass
class PrunePlan:
    removals: list[Removal] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.removals)

    @property
    def tags(self) -> int:
        """How many removals are tags; the rest are untagged referrers (what the summary lines count)."""
        return sum(r.tag is not None for r in self.removals)


class Remover(Protocol):
    """Removes tags and manifests from the target registry."""

    can_untag: bool  # removing a tag leaves its manifest while another tag names it (ECR)

    def remove(self, repo: str, removals: list[Removal]) -> None: ...  # attached first, then the tags they hang on


def repositories_to_prune(wanted: Mapping[str, Iterable[str]], prefix: str) -> dict[str, set[str]]:
    """The repositories the selection names, each with the tags it lists; refuses any outside ``prefix``."""
    if not prefix:
        raise InputError("prune removes tags under a prefix: give --target REGISTRY/PREFIX")
    repos = {repo: set(tags) for repo, tags in wanted.items()}
    outside = sorted(r for r in repos if not r.startswith(prefix + "/"))
    if outside:
        raise InputError(f"refusing to prune {outside[0]}: it is outside {prefix}/")
    return repos


def plan_prune(target: Reader, wanted: Mapping[str, set[str]], *, can_untag: bool) -> PrunePlan:
    """What to remove in each of ``wanted``'s repositories (repository -> the tags the selection lists)."""
    plan = PrunePlan()
    for repo in sorted(wanted):
        _plan_repository(target, repo, wanted[repo], can_untag, plan)
    return plan


def _plan_repository(target: Reader, repo: str, keep: set[str], can_untag: bool, plan: PrunePlan) -> None:
    try:
        tags = target.tags(repo)
    except NotFoundError:
        return  # nothing was ever pushed there
    points: dict[str, str] = {}
    for tag in tags:
        digest = target.head_manifest(repo, tag)
        if digest is not None:
            points[tag] = digest
    kept_tags = {points[t]: t for t in sorted(keep) if t in points}
    kept = _with_children(target, repo, set(kept_tags))
    # what is attached to a kept digest is kept too, with the referrers a fallback index lists
    kept |= _with_children(target, repo, {d for t, d in points.items() if _subject(t) in kept})
    removed: set[str] = set()
    for tag, digest in points.items():
        if tag in keep or ATTACHED_TAG.fullmatch(tag):
            continue
        if digest in kept:
            if can_untag:
                plan.removals.append(Removal(repo, tag, digest, 0, "untagged"))
            else:
                plan.kept.append(Kept(repo, tag, digest, kept_tags.get(digest) or "a kept tag"))
            continue
        removed.add(digest)
        plan.removals.append(Removal(repo, tag, digest, _size(target, repo, digest), "superseded"))
    subjects = _with_children(target, repo, removed) - kept
    attached: list[Removal] = []
    listed: set[str] = set()
    for tag, digest in points.items():
        subject = _subject(tag)
        if subject is None or subject not in subjects or digest in kept:
            continue
        attached.append(Removal(repo, tag, digest, _size(target, repo, digest), "attached", subject))
        if not tag.endswith((".sig", ".att", ".sbom")):  # the referrers fallback index: its referrers go too
            for child in target.get_manifest(repo, digest).children:
                if child.digest not in kept and child.digest not in listed:
                    listed.add(child.digest)
                    size = _size(target, repo, child.digest)
                    attached.append(Removal(repo, None, child.digest, size, "referrer", subject))
    for subject in sorted(subjects):
        for referrer in target.list_referrers(repo, subject) or []:
            if referrer.digest not in kept and referrer.digest not in listed:
                listed.add(referrer.digest)
                size = _size(target, repo, referrer.digest)
                attached.append(Removal(repo, None, referrer.digest, size, "referrer", subject))
    plan.removals[:0] = attached  # what is attached goes first: an interrupted prune leaves no orphan behind


def _subject(tag: str) -> str | None:
    match = ATTACHED_TAG.fullmatch(tag)
    return f"sha256:{match['hex']}" if match else None


def _with_children(target: Reader, repo: str, digests: set[str]) -> set[str]:
    """``digests`` and the platform manifests of those that are indexes."""
    found = set(digests)
    for digest in digests:
        found |= {child.digest for child in target.get_manifest(repo, digest).children}
    return found


class DeletingRegistry(Protocol):
    def delete_manifest(self, repo: str, digest: str) -> None: ...


@dataclass
class DistributionRemover:
    """Any registry but ECR: the distribution API's manifest DELETE, by digest (it removes every tag
    naming the digest, so a tag sharing a kept digest is never given to it)."""

    registry: DeletingRegistry
    host: str
    can_untag: bool = False

    def remove(self, repo: str, removals: list[Removal]) -> None:
        for digest in dict.fromkeys(r.digest for r in removals):
            try:
                self.registry.delete_manifest(repo, digest)
            except UnsupportedError:
                raise RegistryError(
                    f"{self.host} refuses to delete manifests "
                    "(Distribution: set storage.delete.enabled; "
                    "Harbor: a robot account with delete rights); nothing more was removed"
                ) from None


def _size(target: Reader, repo: str, digest: str) -> int:
    """The manifest and the blobs it names, with its platform manifests' (those the repository holds)."""
    manifest = target.get_manifest(repo, digest)
    found = [manifest]
    for child in manifest.children:
        try:
            found.append(target.get_manifest(repo, child.digest))
        except NotFoundError:
            continue  # an index whose platform manifests were not all copied
    return sum(len(m.data) + sum(b.size for b in m.blobs) for m in found)


@dataclass
class EcrRemover:
    """ECR: its control plane's BatchDeleteImage, by tag (ECR deletes an image with its last tag, so a
    tag sharing a kept digest is untagged and the image stays) and, for untagged referrers, by digest."""

    ecr_client: Any
    registry_id: str | None
    can_untag: bool = True

    def remove(self, repo: str, removals: list[Removal]) -> None:
        refused = ecr.delete_images(
            self.ecr_client,
            self.registry_id,
            repo,
            [r.tag for r in removals if r.tag],
            [r.digest for r in removals if r.tag is None],
        )
        if refused:
            raise RegistryError(f"ECR refused to delete {len(refused)} images of {repo}; first: {refused[0]}")


def remove_all(plan: PrunePlan, remover: Remover) -> None:
    """Each repository's removals, in the plan's order (what is attached before the tags it hangs on)."""
    by_repo: dict[str, list[Removal]] = {}
    for removal in plan.removals:
        by_repo.setdefault(removal.repo, []).append(removal)
    for repo, removals in by_repo.items():
        remover.remove(repo, removals)
