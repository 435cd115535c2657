"""prune and Terraform's prune_superseded: what the selection no longer lists under the target's prefix."""

from __future__ import annotations

import logging
from collections.abc import Callable

from provider_helper.content.pool import RegistryPool
from provider_helper.mirror.prune import (
    DistributionRemover,
    EcrRemover,
    PrunePlan,
    Remover,
    plan_prune,
    remove_all,
    repositories_to_prune,
)
from provider_helper.oci.reference import parse_target
from provider_helper.session import RunConfig
from provider_helper.usecases.preflight import preflight

log = logging.getLogger("nvcf-mirror")


def plan_pruning(config: RunConfig, registries: RegistryPool) -> tuple[PrunePlan, Remover]:
    """``prune`` and Terraform's ``prune_superseded``: what the selection no longer lists under the
    target's prefix, and what removes it there. A repository whose artifact is skipped (no version
    pinned) is not pruned: the selection lists no tag of it."""
    jobs = config.jobs()
    target = parse_target(config.target)
    wanted: dict[str, set[str]] = {}
    for job in jobs:
        wanted.setdefault(job.target.repository, set()).add(job.target.reference)
    for job in jobs:
        if job.skip_reason and wanted.pop(job.target.repository, None) is not None:
            log.warning("not pruning %s: %s", job.target.repository, job.skip_reason)
    repos = repositories_to_prune(wanted, target.prefix)
    preflight(registries, [], target.registry)
    client = registries.get(target.registry)
    access = config.access
    remover: Remover = (
        EcrRemover(access.ecr_client, access.account)
        if access.kind == "ecr"
        else DistributionRemover(client, target.registry)
    )
    return plan_prune(client, repos, can_untag=remover.can_untag), remover


def prune(config: RunConfig, approve: Callable[[PrunePlan], bool]) -> tuple[PrunePlan, bool]:
    """``prune`` and Terraform's ``prune_superseded``, the one place superseded tags are removed: the plan is
    shown to ``approve`` (the CLI lists it, then asks or stops at a dry run; Terraform logs it and goes on)
    and removed only when it answers true. Returns the plan and whether it was removed."""
    registries = config.registries()
    try:
        plan, remover = plan_pruning(config, registries)
        approved = approve(plan)
        if approved:
            remove_all(plan, remover)
        return plan, approved
    finally:
        registries.close()
