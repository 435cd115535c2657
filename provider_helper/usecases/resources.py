"""resources download --push: the files NGC listed and this run downloaded, stored as OCI artifacts; resources
pull: those artifacts' files fetched back from the target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provider_helper import ngc_api
from provider_helper.aws import ecr
from provider_helper.mirror import ngc
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.plan import Job
from provider_helper.oci.reference import parse_target
from provider_helper.results import ArtifactResult
from provider_helper.session import RunConfig
from provider_helper.usecases.mirror import copy_to_target
from provider_helper.usecases.preflight import preflight


def push_downloaded(
    config: RunConfig, jobs: list[Job], root: Path, downloaded: dict[str, list[Path]]
) -> tuple[list[ArtifactResult], float]:
    """Each resource version downloaded under ``root`` pushed to the target as
    ``{prefix}/{name}:{version}``: exactly the files in ``downloaded`` (by job key). Results and seconds."""
    folders = {j.key: root / ngc_api.version_dir(j.artifact.resource) for j in jobs if j.artifact.resource}
    payload_for = lambda job: ngc.resource_payload(job.artifact.resource, folders[job.key], downloaded[job.key])  # noqa: E731
    options = EngineOptions()  # copy
    return copy_to_target(
        config, jobs, options, create_repos=False, repo_settings=ecr.RepositorySettings(), payload_for=payload_for
    )


def pull(config: RunConfig, jobs: list[Job], dest: Path, pulled: Callable[[Job, list[Path]], None]) -> None:
    """``resources pull``: each job's files read from the target into ``dest`` (after the target's preflight),
    ``pulled`` told of each version's files as soon as they are written (the CLI logs and extracts them)."""
    registries = config.registries()
    try:
        client = registries.get(parse_target(config.target).registry)
        preflight(registries, [], client.host)
        for job in jobs:
            pulled(job, ngc.pull(client, job, dest))
    finally:
        registries.close()
