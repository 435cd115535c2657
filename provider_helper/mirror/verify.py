"""Verify: the target has every selected artifact, at the expected digest, for the right platform."""

from __future__ import annotations

from provider_helper.content.store import Reader
from provider_helper.errors import PlatformMismatchError, RegistryError
from provider_helper.mirror.attached import Finder
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import image_platform
from provider_helper.mirror.sources import PayloadFor
from provider_helper.results import ArtifactResult
from provider_helper.retry import describe
from provider_helper.threads import worker_pool


def missing(target: str) -> str:
    """The problem of a tag the target does not have (the CLI then says ``missing``, not ``mismatch``)."""
    return f"{target} is missing at the target"


def verify_all(
    jobs: list[Job], payload_for: PayloadFor, target: Reader, workers: int = 8, finder: Finder | None = None
) -> list[ArtifactResult]:
    """``finder`` given: also report signatures and referrers the source has and the target lacks."""
    with worker_pool(workers, "verify") as pool:
        return list(pool.map(lambda job: verify_one(job, payload_for, target, finder), jobs))


def verify_one(job: Job, payload_for: PayloadFor, target: Reader, finder: Finder | None = None) -> ArtifactResult:
    result = job.result()
    if job.skip_reason:
        result.status, result.error = "skipped", job.skip_reason
        return result
    problems: list[str] = []
    try:
        problems = _check(job, payload_for, target, result, finder)
    except RegistryError as exc:
        problems = [describe(exc)]
    result.status = "failed" if problems else "present"
    result.error = "; ".join(problems) or None
    return result


def _check(
    job: Job, payload_for: PayloadFor, target: Reader, result: ArtifactResult, finder: Finder | None
) -> list[str]:
    repo, tag = job.target.repository, job.target.reference
    if target.head_manifest(repo, tag) is None:
        return [missing(str(job.target))]
    found = target.get_manifest(repo, tag)
    result.digest = found.digest
    problems = []
    try:
        if found.is_index:
            present = [d.platform for d in found.children if d.platform and not d.is_attestation]
            result.platforms = [str(p) for p in present]
            for wanted in job.platforms or ():
                if not any(wanted.matches(p.os, p.architecture, p.variant) for p in present):
                    problems.append(f"no {wanted} image in the target index (it has: {', '.join(result.platforms)})")
        else:
            result.platforms = image_platform(target, repo, found, job.platforms)
    except PlatformMismatchError as exc:
        problems.append(str(exc))
    try:
        payload = payload_for(job)
        resolved = payload.resolved
        expected = resolved.digest
    except PlatformMismatchError as exc:
        problems.append(f"source: {exc}")
    except RegistryError as exc:
        result.note = f"digest not compared: source unreachable ({describe(exc)})"
    else:
        if expected is None:
            if resolved.matches is None or not resolved.matches(found):
                problems.append(f"{job.target} is not {job.artifact.source_text}")
        elif expected != found.digest:
            problems.append(f"target digest {found.digest} differs from the source's {expected}")
        elif finder is not None and payload.attached:
            problems += missing_attachments(finder, payload.source, payload.repo, resolved.signed, target, repo)
    return problems


def missing_attachments(
    finder: Finder, source: Reader, source_repo: str, subjects: tuple[str, ...], target: Reader, repo: str
) -> list[str]:
    """Signatures and referrers the source has for ``subjects`` that the target lacks or holds otherwise."""
    problems = []
    for attachment in finder.find(source, source_repo, subjects).attachments:
        at_target = target.head_manifest(repo, attachment.reference)
        if attachment.descriptor is not None:  # a referrer, named by its digest
            if at_target is None:
                problems.append(f"referrer {attachment.reference} of {attachment.subject} is missing at the target")
            continue
        expected = source.get_manifest(source_repo, attachment.reference).digest
        if at_target != expected:
            state = "missing" if at_target is None else f"{at_target}, not the source's {expected}"
            problems.append(f"{attachment.kind} {attachment.reference} at the target: {state}")
    return problems
