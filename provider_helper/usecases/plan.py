"""plan: each job resolved (or not: offline) and, with compare, held against the target."""

from __future__ import annotations

from provider_helper.errors import InputError
from provider_helper.mirror.engine import EngineOptions, Mode
from provider_helper.mirror.plan import Job
from provider_helper.progress import LogReporter
from provider_helper.results import ArtifactResult
from provider_helper.session import RunConfig
from provider_helper.usecases.wiring import run_engine


def planned(job: Job) -> ArtifactResult:
    result = job.result()
    result.platforms = [str(p) for p in job.platforms or ()]
    if job.skip_reason:
        result.status, result.error = "skipped", job.skip_reason
    return result


def plan(config: RunConfig, *, offline: bool, compare: bool, check_jobs: int) -> tuple[list[Job], list[ArtifactResult]]:
    """The jobs and each one's result: resolved at the source (``offline``: not), and with ``compare``
    held against what the target holds (present, or planned with the bytes a mirror would send)."""
    if offline and compare:
        raise InputError("--offline and --compare exclude each other: --compare asks the target")
    plan_jobs = config.jobs(resolve_versions=not offline)
    if offline:
        return plan_jobs, [planned(job) for job in plan_jobs]
    reporter = LogReporter(successes=False)  # the plan's lines say it all; failures are logged as they happen
    mode: Mode = "dry-run" if compare else "resolve"
    options = EngineOptions(check_jobs=check_jobs, mode=mode)
    results, _ = run_engine(config, plan_jobs, options, reporter, check_target=compare)
    return plan_jobs, results


def resolve(config: RunConfig) -> tuple[list[Job], list[ArtifactResult]]:
    """Terraform's plan: the source digest of every job that is not skipped, read-only. Digests only:
    signatures are looked up by the apply step, not on every plan."""
    jobs = [j for j in config.jobs() if not j.skip_reason]
    results, _ = run_engine(
        config, jobs, EngineOptions(mode="resolve", signatures=False), LogReporter(), check_target=False
    )
    return jobs, results
