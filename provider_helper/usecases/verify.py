"""verify: the target holds every artifact of the selection (or of a bundle's lock), with the right digest."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from pathlib import Path

from provider_helper.archive_members import ExtractLimits
from provider_helper.mirror.attached import Finder
from provider_helper.mirror.layout import LayoutSource
from provider_helper.mirror.verify import verify_all
from provider_helper.oci.reference import parse_target
from provider_helper.results import ArtifactResult
from provider_helper.session import RunConfig
from provider_helper.usecases.preflight import preflight
from provider_helper.usecases.wiring import payloads

log = logging.getLogger("nvcf-mirror")


def verify(
    config: RunConfig, from_path: str | None, limits: ExtractLimits, *, check_signatures: bool
) -> tuple[list[ArtifactResult], float]:
    """Each artifact checked at the target against its source (or, ``from_path``, against what a saved
    layout's lock lists, with no source access); ``check_signatures``: what is attached too. Returns
    results and seconds."""
    finder = Finder() if check_signatures else None
    registries = config.registries()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.callback(registries.close)
        target = registries.get(parse_target(config.target).registry)
        if from_path:
            layout = LayoutSource(Path(from_path), limits)
            stack.callback(layout.close)
            plan_jobs = layout.jobs(parse_target(config.target))
            preflight(registries, [], target.host)
            if layout.base is not None:
                # a differential bundle: what it leaves out is checked at the target
                layout.read_left_out_from(target)
            results = verify_all(plan_jobs, functools.partial(layout.payload, check_blobs=False), target, finder=finder)
        else:
            plan_jobs = config.jobs()
            for unreachable in preflight(registries, plan_jobs, target.host).values():
                log.warning("%s: digests not compared with the source", unreachable)
            payload_for = stack.enter_context(payloads(config, registries))
            results = verify_all(plan_jobs, payload_for, target, finder=finder)
    return results, time.monotonic() - started
