"""plan, mirror, values: what a run would copy, the copy itself, and the Helmfile values."""

from __future__ import annotations

import logging

import click

from provider_helper.aws import ecr
from provider_helper.cli.copy_options import copy_options
from provider_helper.cli.options import common_options, no_signatures_option, recheck_signatures_option
from provider_helper.cli.reporting import discard_stale, exit_for, report_copy
from provider_helper.cli.root import cli
from provider_helper.mirror.engine import EngineOptions
from provider_helper.results import ArtifactResult, document, dumps, human_bytes, plan_lines
from provider_helper.session import RunConfig
from provider_helper.usecases import plan as plan_usecase
from provider_helper.usecases.mirror import mirror as mirror_usecase
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
    plan_jobs, results = plan_usecase.plan(common, offline=offline, compare=compare, check_jobs=jobs)
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
    options = EngineOptions(jobs, blob_jobs, check_jobs, mount_from=mount_from, recheck_signatures=recheck_signatures)
    plan_jobs, results, seconds = mirror_usecase(
        common, options, dry_run=dry_run, create_repos=create_repos, repo_settings=repo_settings
    )
    report_copy(common, plan_jobs, results, seconds, result_file, dry_run=dry_run)


@cli.command()
@common_options
def values(common: RunConfig) -> None:
    """Print the Helmfile environment values that point nvcf-self-managed-stack at the mirror."""
    # the same checks as every command: a bad manifest or flag is still exit 2
    jobs = common.jobs(resolve_versions=False)
    click.echo(common.helm_values(jobs), nl=False)
