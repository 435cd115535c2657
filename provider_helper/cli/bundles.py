"""load and save: a bundle carried into an air-gapped site, written from the sources or pushed to the target."""

from __future__ import annotations

from pathlib import Path

import click

from provider_helper.archive_members import ExtractLimits
from provider_helper.aws import ecr
from provider_helper.cli.copy_options import copy_options, extract_options
from provider_helper.cli.options import no_signatures_option, run_config_options
from provider_helper.cli.reporting import discard_stale, exit_for, report_copy
from provider_helper.cli.root import cli
from provider_helper.mirror.engine import EngineOptions
from provider_helper.progress import log_summary
from provider_helper.results import document
from provider_helper.session import RunConfig
from provider_helper.usecases import bundles as bundles_usecase


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
    # what is attached is read from local files: compared by digest at no cost, warm or not
    options = EngineOptions(jobs, blob_jobs, check_jobs, mount_from=mount_from, recheck_signatures=True)
    plan_jobs, results, seconds = bundles_usecase.load(
        common,
        Path(from_path),
        limits,
        options,
        dry_run=dry_run,
        create_repos=create_repos,
        repo_settings=repo_settings,
    )
    report_copy(common, plan_jobs, results, seconds, result_file, dry_run=dry_run)


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
    results, seconds = bundles_usecase.save(
        common, path, Path(since) if since else None, archive_size, jobs, blob_jobs, dry_run=dry_run
    )
    log_summary(document(str(path), results, seconds), results, dry_run=dry_run)
    exit_for(results)
