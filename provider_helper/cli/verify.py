"""verify: the target holds every artifact, with the right digest and platform."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from provider_helper.archive_members import ExtractLimits
from provider_helper.cli.copy_options import extract_options
from provider_helper.cli.options import common_options
from provider_helper.cli.reporting import discard_stale, exit_for
from provider_helper.cli.root import cli
from provider_helper.errors import InputError
from provider_helper.fsutil import atomic_write
from provider_helper.mirror.verify import missing
from provider_helper.progress import summary_log
from provider_helper.results import document, dumps
from provider_helper.session import RunConfig
from provider_helper.usecases import verify as verify_usecase

log = logging.getLogger("nvcf-mirror")


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
                ("--release", common.release),
                ("--group", common.groups),
                ("--all-groups", common.all_groups),
                ("--platform", common.platforms),
                ("--all-platforms", common.all_platforms),
                ("--set-version", common.set_versions),
                ("--exclude", common.excludes),
                ("--source-registry", common.source_registry),
                ("--source-map", common.source_map),
            )
            if value
        ]
        if given:
            raise InputError(f"--from and {given[0]} exclude each other: --from checks what the bundle's lock lists")
    discard_stale(result_file)
    results, seconds = verify_usecase.verify(common, from_path, limits, check_signatures=check_signatures)
    for r in results:
        if r.status == "failed" and r.error == missing(r.target):
            log.error("missing  %s", r.target)
        elif r.status == "failed":
            log.error("mismatch %s: %s", r.target, r.error)
        elif r.status == "present":
            log.info("ok       %s@%s%s", r.target, r.digest, f" ({r.note})" if r.note else "")
    if result_file:
        atomic_write(Path(result_file), dumps(document(common.target, results, seconds)))
    failed = sum(r.status == "failed" for r in results)
    verified = sum(r.status == "present" for r in results)
    summary_log.info(
        "%d verified, %d failed",
        verified,
        failed,
        extra={"event": {"event": "summary", "verified": verified, "failed": failed}},
    )
    exit_for(results)
