"""plan, mirror, load, save, verify, values: the commands that move or check artifacts."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import time
from pathlib import Path

import click

from provider_helper.archive_members import ExtractLimits
from provider_helper.aws import ecr
from provider_helper.cli.options import (
    common_options,
    copy_options,
    discard_stale,
    exit_for,
    extract_options,
    no_signatures_option,
    recheck_signatures_option,
    run_config_options,
)
from provider_helper.cli.root import cli
from provider_helper.content.layout import Layout
from provider_helper.errors import InputError
from provider_helper.fsutil import atomic_write
from provider_helper.mirror.attached import Finder
from provider_helper.mirror.bundle_lock import write_lock
from provider_helper.mirror.bundles import read_base
from provider_helper.mirror.engine import EngineOptions, Mode
from provider_helper.mirror.layout import LayoutSource
from provider_helper.mirror.packing import pack
from provider_helper.mirror.plan import Job
from provider_helper.mirror.saving import layout_for_saving, staging_for, writer_lock
from provider_helper.mirror.sources import PayloadFor
from provider_helper.mirror.verify import missing, verify_all
from provider_helper.oci.reference import parse_target
from provider_helper.progress import LogReporter, log_summary, reporting, summary_log
from provider_helper.results import ArtifactResult, document, dumps, human_bytes, plan_lines
from provider_helper.session import (
    RunConfig,
    check_left_out,
    payloads,
    planned,
    preflight,
    run_engine,
)
from provider_helper.session import (
    copy_to_target as session_copy,
)
from provider_helper.splitarchive import parse_size
from provider_helper.wording import plural

log = logging.getLogger("nvcf-mirror")


@cli.command()
@common_options
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--offline", is_flag=True, help="Make no network call: show targets without resolving source digests.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also ask the target what it holds: each artifact planned or present, and the bytes a mirror would send.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=EngineOptions.check_jobs,
    show_default=True,
    help="Sources resolved at once.",
)
@no_signatures_option
def plan(common: RunConfig, output: str, offline: bool, compare: bool, jobs: int) -> None:
    """Show what would be copied where, with resolved source digests."""
    if offline and compare:
        raise InputError("--offline and --compare exclude each other: --compare asks the target")
    plan_jobs = common.jobs(resolve_versions=not offline)
    if offline:
        results = [planned(job) for job in plan_jobs]
    else:
        reporter = LogReporter(successes=False)  # the lines below say it all; failures are logged as they happen
        mode: Mode = "dry-run" if compare else "resolve"
        options = EngineOptions(check_jobs=jobs, mode=mode)
        results, _ = run_engine(common, plan_jobs, options, reporter, check_target=compare)
    doc = document(common.target, results, 0.0)
    if output == "json":
        click.echo(dumps(doc), nl=False)
    else:
        sources = {job.key: str(job.source) for job in plan_jobs if job.source is not None}  # after --source-registry
        summary = doc["summary"]
        to_send = human_bytes(summary["bytes_to_copy"])
        would = f"; {summary['present']} present, would copy {summary['planned']}, {to_send} to send" if compare else ""
        offline_note = " (offline: digests not resolved)" if offline else ""
        click.echo(f"{plural(len(results), 'artifact')} into {common.target}{offline_note}{would}")
        lines = plan_lines(results, sources, common.target)
        if compare:  # each line ends with what the target holds of it
            lines = [line + _held_at_target(r) for line, r in zip(lines, results, strict=True)]
        click.echo("\n".join(lines))
        for r in results:
            if r.note:
                log.warning("note: %s: %s", r.target, r.note)
    exit_for(results)


def _held_at_target(result: ArtifactResult) -> str:
    """``plan --compare``: what the target holds of an artifact, at the end of its line."""
    if result.status == "present":
        return "  present"
    return f"  to copy, {human_bytes(result.bytes_to_copy)}" if result.status == "planned" else ""


@cli.command()
@common_options
@copy_options
@no_signatures_option
@recheck_signatures_option
def mirror(
    common: RunConfig,
    result_file: str | None,
    dry_run: bool,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
    jobs: int,
    blob_jobs: int,
    check_jobs: int,
    mount_from: tuple[str, ...],
    recheck_signatures: bool,
) -> None:
    """Copy the selected artifacts to the target."""
    discard_stale(result_file)
    plan_jobs = common.jobs()
    options = EngineOptions(jobs, blob_jobs, check_jobs, mount_from=mount_from, recheck_signatures=recheck_signatures)
    copy_to_target(common, plan_jobs, result_file, dry_run, create_repos, repo_settings, options)


@cli.command()
@run_config_options(selection=False)
@click.option(
    "--from",
    "from_path",
    required=True,
    type=click.Path(),
    help="A layout written by 'nvcf-mirror save': a directory, a .tar, or a split .tar (its name or its .000 part).",
)
@copy_options
@extract_options
@no_signatures_option
def load(
    common: RunConfig,
    from_path: str,
    result_file: str | None,
    dry_run: bool,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
    jobs: int,
    blob_jobs: int,
    check_jobs: int,
    mount_from: tuple[str, ...],
    limits: ExtractLimits,
) -> None:
    """Push a saved layout to the target, with no access to the source (air-gapped installs)."""
    discard_stale(result_file)
    layout = LayoutSource(Path(from_path), limits)
    with contextlib.ExitStack() as stack:
        stack.callback(layout.close)
        plan_jobs = layout.jobs(parse_target(common.target))
        if layout.base is not None:  # a differential bundle (save --since): the target must hold what it leaves out
            registries = common.registries()
            stack.callback(registries.close)
            check_left_out(common, layout, registries)
        # what is attached is read from local files: compared by digest at no cost, warm or not
        options = EngineOptions(jobs, blob_jobs, check_jobs, mount_from=mount_from, recheck_signatures=True)
        copy_to_target(
            common, plan_jobs, result_file, dry_run, create_repos, repo_settings, options, payload_for=layout.payload
        )


def copy_to_target(
    common: RunConfig,
    plan_jobs: list[Job],
    result_file: str | None,
    dry_run: bool,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
    options: EngineOptions,
    payload_for: PayloadFor | None = None,
) -> None:
    """mirror and load: copy (session.copy_to_target), write the result document, exit 0 or 1."""
    options = dataclasses.replace(options, mode="dry-run" if dry_run else "copy")
    results, seconds = session_copy(
        common, plan_jobs, options, create_repos=create_repos, repo_settings=repo_settings, payload_for=payload_for
    )
    doc = document(common.target, results, seconds, common.helm_values(plan_jobs))
    if result_file:
        atomic_write(Path(result_file), dumps(doc))
    log_summary(doc, results, dry_run=dry_run)
    exit_for(results)


@cli.command()
@run_config_options(target=None)
@click.option(
    "--to",
    "to_path",
    required=True,
    type=click.Path(),
    help="Directory to write the OCI layout to, or a file ending in .tar.",
)
@click.option(
    "--since",
    "since",
    type=click.Path(),
    help="An earlier bundle (layout directory, .tar, or its lock file alone): write only what it does not hold.",
)
@click.option(
    "--archive-size",
    "archive_size",
    metavar="SIZE",
    help="With --to FILE.tar: parts of at most SIZE (4GiB, 500MB): FILE.tar.000, .001, … and FILE.tar.sha256.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=EngineOptions.jobs,
    show_default=True,
    help="Artifacts fetched at once.",
)
@click.option(
    "--blob-jobs",
    type=click.IntRange(1, 64),
    default=EngineOptions.blob_jobs,
    show_default=True,
    help="Blob downloads at once.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Resolve and compare with the layout (and --since's bundle); write nothing, say what the bundle would take.",
)
@no_signatures_option
def save(
    common: RunConfig,
    to_path: str,
    since: str | None,
    archive_size: str | None,
    jobs: int,
    blob_jobs: int,
    dry_run: bool,
) -> None:
    """Write the selected artifacts into an OCI image layout to carry into an air-gapped site.

    Resumable: blobs already in the layout are not fetched again. With --since, a differential bundle:
    every manifest and blob of the selection that the earlier bundle does not hold, and a lock that
    lists the whole selection and names that bundle."""
    path = Path(to_path)
    base = read_base(Path(since)) if since else None
    as_tar = path.suffix == ".tar"
    part_size = parse_size(archive_size) if archive_size else None
    if part_size and not as_tar:
        raise InputError("--archive-size splits a .tar bundle: use it with --to FILE.tar")
    plan_jobs = common.jobs()
    if dry_run:  # compared with what the layout (a resumed save) and the base bundle hold; nothing is written
        held = path.with_name(path.name + ".partial") if as_tar else path  # read, never made or trusted
        with reporting(len(plan_jobs), live=False) as reporter:
            options = EngineOptions(jobs, blob_jobs, mode="dry-run")
            results, seconds = run_engine(
                common, plan_jobs, options, reporter, check_target=False, target=Layout(held, base)
            )
        log_summary(document(str(path), results, seconds), results, dry_run=True)
        exit_for(results)
        return
    staging = staging_for(path) if as_tar else path
    with writer_lock(staging):
        with reporting(len(plan_jobs)) as reporter:
            # the lock lists every attached manifest by digest, so a layout reads them all, warm or not
            options = EngineOptions(jobs, blob_jobs, recheck_signatures=True)
            results, seconds = run_engine(
                common, plan_jobs, options, reporter, check_target=False, target=layout_for_saving(staging, base)
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
    log_summary(document(str(path), results, seconds), results)
    exit_for(results)


@cli.command()
@common_options
@click.option(
    "--result-file", type=click.Path(dir_okay=False, writable=True), help="Write the verification as a result document."
)
@click.option(
    "--from", "from_path", type=click.Path(), help="Expect what a saved layout's lock file lists (no source access)."
)
@click.option(
    "--signatures",
    "check_signatures",
    is_flag=True,
    help="Also report signatures, attestations, SBOMs and referrers the source has and the target lacks.",
)
@extract_options
def verify(
    common: RunConfig, result_file: str | None, from_path: str | None, check_signatures: bool, limits: ExtractLimits
) -> None:
    """Check the target has every artifact, with the right digest and platform."""
    if from_path:  # the bundle's lock is the selection: a selection flag beside it would be silently ignored
        given = [
            flag
            for flag, value in (
                ("--manifest", common.manifest),
                ("--group", common.groups),
                ("--all-groups", common.all_groups),
                ("--platform", common.platforms),
                ("--all-platforms", common.all_platforms),
                ("--set-version", common.set_versions),
            )
            if value
        ]
        if given:
            raise InputError(f"--from and {given[0]} exclude each other: --from checks what the bundle's lock lists")
    finder = Finder() if check_signatures else None
    discard_stale(result_file)
    registries = common.registries()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.callback(registries.close)
        target = registries.get(parse_target(common.target).registry)
        if from_path:
            layout = LayoutSource(Path(from_path), limits)
            stack.callback(layout.close)
            plan_jobs = layout.jobs(parse_target(common.target))
            preflight(registries, [], target.host)
            if layout.base is not None:
                layout.read_left_out = (
                    target.get_manifest
                )  # a differential bundle: what it leaves out is checked at the target
            results = verify_all(plan_jobs, functools.partial(layout.payload, check_blobs=False), target, finder=finder)
        else:
            plan_jobs = common.jobs()
            for unreachable in preflight(registries, plan_jobs, target.host).values():
                log.warning("%s: digests not compared with the source", unreachable)
            payload_for = stack.enter_context(payloads(common, registries))
            results = verify_all(plan_jobs, payload_for, target, finder=finder)
    for r in results:
        if r.status == "failed" and r.error == missing(r.target):
            log.error("missing  %s", r.target)
        elif r.status == "failed":
            log.error("mismatch %s: %s", r.target, r.error)
        elif r.status == "present":
            log.info("ok       %s@%s%s", r.target, r.digest, f" ({r.note})" if r.note else "")
    if result_file:
        atomic_write(Path(result_file), dumps(document(common.target, results, time.monotonic() - started)))
    failed = sum(r.status == "failed" for r in results)
    verified = sum(r.status == "present" for r in results)
    summary_log.info(
        "%d verified, %d failed",
        verified,
        failed,
        extra={"event": {"event": "summary", "verified": verified, "failed": failed}},
    )
    exit_for(results)


@cli.command()
@common_options
def values(common: RunConfig) -> None:
    """Print the Helmfile environment values that point nvcf-self-managed-stack at the mirror."""
    jobs = common.jobs(
        resolve_versions=False
    )  # the same checks as every command: a bad manifest or flag is still exit 2
    click.echo(common.helm_values(jobs), nl=False)
