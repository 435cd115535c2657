"""resources download and pull: NGC resources as files."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import click

from provider_helper import ngc_api
from provider_helper.archive_members import ArchiveError, ExtractLimits
from provider_helper.archives import safe_extract, top_folder
from provider_helper.cli.copy_options import extract_options
from provider_helper.cli.options import run_config_options
from provider_helper.cli.reporting import report_copy
from provider_helper.cli.root import cli
from provider_helper.errors import InputError, RegistryError
from provider_helper.mirror.plan import Job
from provider_helper.session import RunConfig
from provider_helper.usecases.resources import pull, push_downloaded
from provider_helper.wording import plural

log = logging.getLogger("nvcf-mirror")


@cli.group("resources")
def resources_group() -> None:
    """NGC resources (nvcf-base, nvcf-self-managed-stack, nvcf-cli): download, push, pull."""


def _resource_jobs(common: RunConfig) -> list[Job]:
    """Resources of the selected groups; with no --group, every resource of the manifest. Charts and
    images are never looked at (their versions are not resolved): they are mirror's and save's."""
    if not common.groups and not common.all_groups:
        common = dataclasses.replace(common, all_groups=True)
    jobs = common.jobs(types=frozenset({"resource"}))
    for job in jobs:
        if job.artifact.needs_version:
            raise InputError(
                f"{job.artifact.name} has no version: pin it with --set-version {job.artifact.name}=VERSION"
            )
    if not jobs:
        raise InputError(
            "no NGC resources selected (they are in the deployment-resources group of the bundled manifest)"
        )
    return jobs


@resources_group.command("download")
@run_config_options(target="optional")
@click.option(
    "--dest",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to download into (DEST/<name>_v<version>/…).",
)
@click.option(
    "--extract", is_flag=True, help="Unpack each .tar.gz/.tgz/.tar into DEST/<name>/ (refusing unsafe archives)."
)
@click.option(
    "--push", is_flag=True, help="Also store each version as an OCI artifact at --target: {prefix}/{name}:{version}."
)
@extract_options
def resources_download(common: RunConfig, dest: str, extract: bool, push: bool, limits: ExtractLimits) -> None:
    """Download the selected NGC resource versions through the NGC API."""
    jobs = _resource_jobs(common)
    if push and not common.target:
        raise InputError("--push needs --target REGISTRY[/PREFIX]")
    client = common.ngc_client()
    root = Path(dest)
    downloaded: dict[str, list[Path]] = {}  # what --push stores: exactly the files NGC listed and this run downloaded
    try:
        for job in jobs:
            ref = job.artifact.resource
            assert ref is not None
            files = client.download(ref, root)
            downloaded[job.key] = files
            log.info("downloaded %s: %s into %s", ref, plural(len(files), "file"), root / ngc_api.version_dir(ref))
            if extract:
                _extract(files, root / ngc_api.version_dir(ref), root / ref.name, limits)
    finally:
        client.close()
    if push:
        results, seconds = push_downloaded(common, jobs, root, downloaded)
        report_copy(common, jobs, results, seconds, None, dry_run=False)


def _extract(files: list[Path], folder: Path, into: Path, limits: ExtractLimits) -> None:
    """Each archive of the version ``folder`` into ``into`` (DEST/<name>/), keeping its place in the version;
    an archive at the version's top whose entries all lie in one folder named ``<name>`` (nvcf-base/…)
    is that folder: its content lands in DEST/<name>/, not DEST/<name>/<name>/."""
    for archive in files:
        if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
            place = archive.parent.relative_to(folder)
            try:
                own_folder = place == Path(".") and top_folder(archive, limits) == into.name
                target = into.parent if own_folder else into / place
                safe_extract(archive, target, limits)
            except ArchiveError as exc:
                raise RegistryError(f"refusing to extract: {exc}") from None
            log.info("extracted %s into %s", archive.name, target)


@resources_group.command("pull")
@run_config_options(target="required")
@click.option(
    "--dest", required=True, type=click.Path(file_okay=False), help="Folder to write DEST/<name>_v<version>/… into."
)
@click.option(
    "--extract", is_flag=True, help="Unpack each .tar.gz/.tgz/.tar into DEST/<name>/ (refusing unsafe archives)."
)
@extract_options
def resources_pull(common: RunConfig, dest: str, extract: bool, limits: ExtractLimits) -> None:
    """Fetch resource versions that 'resources download --push' stored in your registry."""
    jobs = _resource_jobs(common)

    def written(job: Job, files: list[Path]) -> None:
        ref = job.artifact.resource
        assert ref is not None
        log.info("pulled %s: %s into %s", job.target, plural(len(files), "file"), Path(dest) / ngc_api.version_dir(ref))
        if extract:
            _extract(files, Path(dest) / ngc_api.version_dir(ref), Path(dest) / ref.name, limits)

    pull(common, jobs, Path(dest), written)
