"""save and load: a bundle written from the sources, or pushed to the target with no access to them."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path

from provider_helper.archive_members import ExtractLimits
from provider_helper.aws import ecr
from provider_helper.content.layout import Layout
from provider_helper.content.pool import RegistryPool
from provider_helper.errors import InputError
from provider_helper.mirror.bundle_lock import write_lock
from provider_helper.mirror.bundles import left_out_at_target, read_base
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.layout import LayoutSource
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.packing import pack
from provider_helper.mirror.plan import Job
from provider_helper.mirror.saving import layout_for_saving, staging_for, writer_lock
from provider_helper.oci.reference import parse_target
from provider_helper.progress import reporting
from provider_helper.results import ArtifactResult, human_bytes
from provider_helper.session import RunConfig
from provider_helper.splitarchive import parse_size
from provider_helper.usecases.mirror import copy_to_target
from provider_helper.usecases.wiring import run_engine

log = logging.getLogger("nvcf-mirror")


def check_left_out(config: RunConfig, layout: LayoutSource, registries: RegistryPool) -> None:
    """Before a differential bundle is loaded: the target must hold everything the bundle leaves out (in
    the repository that needs it, or a blob in another repository of the prefix, which the copy then
    mounts). Otherwise one line naming the base bundle, exit 2, nothing pushed. Then the layout reads
    the manifests it leaves out from the target."""
    assert layout.base is not None
    target = parse_target(config.target)
    client = registries.get(target.registry)
    missing = left_out_at_target(layout.lock.get("artifacts") or [], layout.has, client, target.prefix)
    if missing.items:
        raise InputError(
            f"{config.target} lacks {len(missing.items)} of the manifests and blobs this differential bundle "
            f"leaves out (first: {missing.items[0]}): load its base first, the bundle written from "
            f"{layout.base.get('from')} (lock {layout.base['lock'][:19]})"
        )
    if missing.mounts:
        locations = BlobLocations(target.registry)
        try:
            for digest, _, holder in missing.mounts:
                locations.remember(digest, holder)  # the copy mounts it from there
        finally:
            locations.close()
    layout.read_left_out_from(client)


def load(
    config: RunConfig,
    from_path: Path,
    limits: ExtractLimits,
    options: EngineOptions,
    *,
    dry_run: bool,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
) -> tuple[list[Job], list[ArtifactResult], float]:
    """``load``: a saved layout pushed to the target, with no access to the sources. A differential
    bundle first: the target must hold what it leaves out."""
    layout = LayoutSource(from_path, limits)
    with contextlib.ExitStack() as stack:
        stack.callback(layout.close)
        plan_jobs = layout.jobs(parse_target(config.target))
        if layout.base is not None:  # a differential bundle (save --since): the target must hold what it leaves out
            registries = config.registries()
            stack.callback(registries.close)
            check_left_out(config, layout, registries)
        options = dataclasses.replace(options, mode="dry-run" if dry_run else "copy")
        results, seconds = copy_to_target(
            config,
            plan_jobs,
            options,
            create_repos=create_repos,
            repo_settings=repo_settings,
            payload_for=layout.payload,
        )
    return plan_jobs, results, seconds


def save(
    config: RunConfig,
    path: Path,
    since: Path | None,
    archive_size: str | None,
    jobs: int,
    blob_jobs: int,
    *,
    dry_run: bool,
) -> tuple[list[ArtifactResult], float]:
    """``save``: the selection written into an OCI layout at ``path`` (a folder, or a .tar packed from a
    staging folder, in parts of ``archive_size``); ``since``: only what that earlier bundle does not hold.
    ``dry_run``: compared with what the layout and the base bundle hold; nothing written."""
    base = read_base(since) if since else None
    as_tar = path.suffix == ".tar"
    part_size = parse_size(archive_size) if archive_size else None
    if part_size and not as_tar:
        raise InputError("--archive-size splits a .tar bundle: use it with --to FILE.tar")
    plan_jobs = config.jobs()
    if dry_run:  # compared with what the layout (a resumed save) and the base bundle hold; nothing is written
        held = path.with_name(path.name + ".partial") if as_tar else path  # read, never made or trusted
        with reporting(len(plan_jobs), live=False) as reporter:
            options = EngineOptions(jobs, blob_jobs, mode="dry-run")
            return run_engine(config, plan_jobs, options, reporter, check_target=False, target=Layout(held, base))
    staging = staging_for(path) if as_tar else path
    with writer_lock(staging):
        with reporting(len(plan_jobs)) as reporter:
            # the lock lists every attached manifest by digest, so a layout reads them all, warm or not
            options = EngineOptions(jobs, blob_jobs, recheck_signatures=True)
            results, seconds = run_engine(
                config, plan_jobs, options, reporter, check_target=False, target=layout_for_saving(staging, base)
            )
        write_lock(staging, results, plan_jobs, base)
        unfinished = any(r.status == "failed" for r in results)
        if as_tar and not unfinished:
            pack(staging, path, part_size)
    if unfinished:
        kept = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file() and not f.is_symlink())
        what = f"{path} is not written; kept {staging}/" if as_tar else f"kept {staging}/"
        log.warning(
            "%s (%s): run the same save again to resume it (blobs already there are not fetched again)",
            what,
            human_bytes(kept),
        )
    return results, seconds
