"""outdated and doctor: what is newer at the sources, and whether a run would work."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from provider_helper.artifacts import Artifact
from provider_helper.cli.options import common_options, run_config_options
from provider_helper.cli.root import cli
from provider_helper.doctor import run_checks
from provider_helper.errors import InputError, RegistryError
from provider_helper.exits import ExitCode
from provider_helper.mirror import versions
from provider_helper.redact import shown
from provider_helper.session import PublishedVersions, RunConfig
from provider_helper.threads import worker_pool

UNWRAPPED = 1 << 20  # columns a table may take off a terminal: as wide as its rows


@cli.command()
@run_config_options(target="optional")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def outdated(common: RunConfig, output: str) -> None:
    """List each selected artifact's pinned version and the newer versions its source publishes.

    Newer means of the same flavour, ordered by semantic version: a tag's flavour is the words after
    its version (0.19.2-nonroot: nonroot; 2.5.1-nv-1.1.0: nv; alpha, beta, rc, pre, preview, dev and
    snapshot mark pre-releases, not flavours), so 0.20.0 is not newer than 0.19.2-nonroot and
    0.20.1-nonroot is. A source that cannot be asked is reported on its artifact's line; the command
    still exits 0."""
    plan_jobs = [job for job in common.jobs() if job.artifact.type in ("image", "chart", "resource")]
    with common.published_versions() as available, worker_pool(8, "outdated") as pool:
        rows = list(pool.map(lambda job: _outdated_row(job.artifact, available), plan_jobs))
    if output == "json":
        click.echo(json.dumps({"version": 1, "artifacts": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("type", "name", "pinned", "newer", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        recent = row["newer"][-5:]
        newer_text = ("… " if len(row["newer"]) > 5 else "") + ", ".join(recent) if recent else "up to date"
        if row["error"]:
            newer_text = "unknown"  # the source was not asked: nothing says it is up to date
        table.add_row(row["type"], row["name"], row["version"] or "(none)", newer_text, shown(row["error"] or ""))
    Console(width=None if sys.stdout.isatty() else UNWRAPPED).print(table)  # piped: one line per row, names whole


def _outdated_row(artifact: Artifact, available: PublishedVersions) -> dict[str, Any]:
    current = artifact.version_text
    row: dict[str, Any] = {
        "key": artifact.key,
        "type": artifact.type,
        "name": artifact.name,
        "version": current,
        "newer": [],
        "error": None,
    }
    try:
        published = available.versions(artifact)
    except (RegistryError, InputError, OSError) as exc:
        row["error"] = shown(str(exc))
        return row
    row["newer"] = versions.newer(current, published) if current else versions.newer("0.0.0-0", published)
    return row


@cli.command()
@common_options
def doctor(common: RunConfig) -> None:
    """Check AWS identity, NGC access, target push rights and platform choice; one line each."""
    plan_jobs = common.jobs()
    registries = common.registries()
    try:
        given = bool(common.platforms) or common.all_platforms
        checks = run_checks(common.access, registries, plan_jobs, common.selected_platforms(), platform_given=given)
    finally:
        registries.close()
    for check in checks:
        click.echo(check.line())
    if any(c.status == "failed" for c in checks):
        sys.exit(ExitCode.FAILED)
