"""status: the digest each selected artifact has at the target now (None: missing)."""

from __future__ import annotations

from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.plan import Job
from provider_helper.oci.reference import parse_target
from provider_helper.session import RunConfig
from provider_helper.threads import worker_pool


def status(config: RunConfig) -> tuple[list[Job], dict[str, str | None]]:
    """The jobs that are not skipped, and by job key the digest the target holds (asked at once)."""
    jobs = [j for j in config.jobs() if not j.skip_reason]
    target = parse_target(config.target)
    registries = config.registries()
    try:
        client = registries.get(target.registry)
        with worker_pool(EngineOptions.check_jobs, "status") as pool:
            digests = pool.map(lambda job: client.head_manifest(job.target.repository, job.target.reference), jobs)
            found = dict(zip((job.key for job in jobs), digests, strict=True))
    finally:
        registries.close()
    return jobs, found
