"""Plan: one job per selected artifact, saying where it comes from and where it lands (by the target
naming of docs/CONTRACTS.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from provider_helper.artifacts import Artifact
from provider_helper.oci.reference import Platform, Reference, Target
from provider_helper.results import ArtifactResult
from provider_helper.sourcemap import SourceMap

ALL_PLATFORMS = None


@dataclass(frozen=True)
class PlanOptions:
    target: Target
    platforms: tuple[Platform, ...] | None  # None: every platform, index copied byte-identical
    # where each upstream is read (--source-map, --source-registry)
    sources: SourceMap = field(default_factory=SourceMap)


@dataclass(frozen=True)
class Job:
    artifact: Artifact
    target: Reference
    source: Reference | None  # registry source of images and OCI charts
    platforms: tuple[Platform, ...] | None
    skip_reason: str | None = None

    @property
    def key(self) -> str:
        return self.artifact.key

    def result(self) -> ArtifactResult:
        """This job's line of the result document, before anything is done."""
        return ArtifactResult(
            key=self.key,
            type=self.artifact.type,
            group=self.artifact.group,
            source=self.artifact.source_text,
            target=str(self.target),
            resolved_from=self.artifact.resolved_from,
        )


def make_plan(artifacts: Iterable[Artifact], options: PlanOptions) -> list[Job]:
    return [_job(a, options) for a in artifacts]


def _job(artifact: Artifact, options: PlanOptions) -> Job:
    tag = artifact.tag or "unpinned"
    target = options.target.reference(artifact.name, tag)
    if artifact.needs_version:
        reason = f"{artifact.name} has no version: pin it in the manifest or with --set-version {artifact.name}=VERSION"
        return Job(artifact, target, artifact.image, None, skip_reason=reason)
    if artifact.is_classic_chart:
        return Job(artifact, target, None, ALL_PLATFORMS)
    if artifact.image is None:
        return Job(artifact, target, None, None)  # an NGC resource, fetched through the NGC API
    source = options.sources.source(artifact.image)
    platforms = artifact.platforms or options.platforms
    if artifact.type == "chart":
        platforms = ALL_PLATFORMS  # charts have no platform; copy them as they are
    return Job(artifact, target, source, platforms)
