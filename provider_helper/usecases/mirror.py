"""mirror, load and Terraform's apply step: create the target's repositories if asked, then copy."""

from __future__ import annotations

import dataclasses
import logging

from provider_helper.aws import ecr
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.plan import Job
from provider_helper.mirror.sources import PayloadFor
from provider_helper.progress import reporting
from provider_helper.results import ArtifactResult
from provider_helper.session import RunConfig
from provider_helper.usecases.wiring import run_engine

log = logging.getLogger("nvcf-mirror")


def copy_to_target(
    config: RunConfig,
    jobs: list[Job],
    options: EngineOptions,
    *,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
    payload_for: PayloadFor | None = None,
) -> tuple[list[ArtifactResult], float]:
    """What ``mirror``, ``load`` and Terraform's apply step do: create the target's repositories if asked,
    then copy every job (``options.mode`` dry-run: compare, push nothing). Returns results and seconds."""
    dry_run = options.mode == "dry-run"
    if create_repos:
        repositories = config.access.repositories()
        names = sorted({j.target.repository for j in jobs if not j.skip_reason})
        if dry_run:
            prefix = config.access.target.prefix
            missing = set(names) - set(repositories.under(prefix)) if prefix else set(names)
            for name in sorted(missing):
                log.info("would create ECR repository %s", name)
        else:
            repositories.ensure(names, repo_settings)
    with reporting(len(jobs), live=not dry_run) as reporter:
        return run_engine(config, jobs, options, reporter, check_target=True, payload_for=payload_for)


def mirror(
    config: RunConfig,
    options: EngineOptions,
    *,
    dry_run: bool,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
) -> tuple[list[Job], list[ArtifactResult], float]:
    """``mirror``: the selection planned and copied (``dry_run``: compared, nothing pushed)."""
    jobs = config.jobs()
    options = dataclasses.replace(options, mode="dry-run" if dry_run else "copy")
    results, seconds = copy_to_target(config, jobs, options, create_repos=create_repos, repo_settings=repo_settings)
    return jobs, results, seconds
