"""A run's registries, payloads and preflight wired to the copy engine; results in the jobs' order."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from provider_helper.content.pool import RegistryPool
from provider_helper.content.store import Store
from provider_helper.errors import RegistryError
from provider_helper.mirror import sources
from provider_helper.mirror.engine import CopyEngine, EngineOptions, Reporter
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.ngc import ResourcePayloads
from provider_helper.mirror.plan import Job
from provider_helper.mirror.sources import PayloadFor
from provider_helper.results import ArtifactResult
from provider_helper.session import RunConfig
from provider_helper.usecases.preflight import preflight
from provider_helper.wording import plural

log = logging.getLogger("nvcf-mirror")


def run_engine(
    config: RunConfig,
    jobs: list[Job],
    options: EngineOptions,
    reporter: Reporter,
    *,
    check_target: bool,
    target: Store | None = None,
    payload_for: PayloadFor | None = None,
) -> tuple[list[ArtifactResult], float]:
    """Preflight every registry, then copy (or resolve) every job; returns results and seconds.

    ``target`` replaces the target registry (an OCI layout for ``save``); ``payload_for`` the
    sources (a layout for ``load``)."""
    registries = config.registries() if target is None else config.source_registries()
    started = time.monotonic()
    try:
        target_client: Store = target if target is not None else registries.get(config.access.target.registry)
        target_host = config.access.target.registry if check_target and target is None else None
        unreachable = preflight(registries, jobs if payload_for is None else [], target_host)
        left, failed = _without_unreachable(jobs, unreachable)
        with contextlib.ExitStack() as stack:
            chosen = payload_for or stack.enter_context(payloads(config, registries))
            options = dataclasses.replace(options, signatures=options.signatures and config.signatures)
            # a dry run reads it too: where a copy would mount from
            if target is None and options.mode in ("copy", "dry-run"):
                locations = BlobLocations(config.access.target.registry)
                stack.callback(locations.close)
            else:
                locations = None
            results = CopyEngine(chosen, target_client, options, reporter, locations).run(left)
    finally:
        registries.close()
    return _merge(jobs, results, failed), time.monotonic() - started


def _without_unreachable(
    jobs: list[Job], unreachable: dict[str, RegistryError]
) -> tuple[list[Job], dict[int, ArtifactResult]]:
    """The jobs left to run, and (by position) those of a source that preflight found unreachable, failed
    at once with its one reason, said here once, not once per artifact after its retries."""
    left: list[Job] = []
    failed: dict[int, ArtifactResult] = {}
    for i, job in enumerate(jobs):
        reason = unreachable.get(job.source.registry) if job.source is not None and not job.skip_reason else None
        if reason is None:
            left.append(job)
        else:
            failed[i] = result = job.result()
            result.status, result.error = "failed", str(reason)
    for host, error in unreachable.items():
        count = sum(job.source is not None and job.source.registry == host for job in (jobs[i] for i in failed))
        log.error("%s: %s not tried", error, plural(count, "artifact is", "artifacts are"))
    return left, failed


def _merge(jobs: list[Job], ran: list[ArtifactResult], failed: dict[int, ArtifactResult]) -> list[ArtifactResult]:
    """Results in the jobs' order: the engine's, and those failed at preflight."""
    rest = iter(ran)
    return [failed[i] if i in failed else next(rest) for i in range(len(jobs))]


@contextlib.contextmanager
def payloads(config: RunConfig, registries: RegistryPool) -> Iterator[PayloadFor]:
    """Where each job's content comes from: the source registry, a classic Helm repository, or the NGC API."""
    helm = config.helm
    with contextlib.ExitStack() as cleanup:
        made: list[Path] = []
        lock = threading.Lock()

        def scratch() -> Path:
            """Made when a resource is first downloaded: most runs (and a killed one) leave no folder."""
            with lock:
                if not made:
                    folder = tempfile.TemporaryDirectory(prefix="nvcf-mirror-resources-")
                    made.append(Path(cleanup.enter_context(folder)))
                return made[0]

        resources = ResourcePayloads(config.ngc_client, scratch)
        try:
            yield sources.dispatch(sources.from_registry(registries.get), helm.payload, resources.payload)
        finally:
            helm.close()
            resources.close()
