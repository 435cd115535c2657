"""ecr delete-repos and import-commands: Amazon ECR housekeeping."""

from __future__ import annotations

import re
import sys

import click

from provider_helper.aws import ecr
from provider_helper.cli.options import run_config_options
from provider_helper.cli.root import cli
from provider_helper.errors import InputError
from provider_helper.session import RunConfig
from provider_helper.wording import plural


@cli.group("ecr")
def ecr_group() -> None:
    """Amazon ECR housekeeping."""


@ecr_group.command("delete-repos")
@click.option(
    "--prefix", required=True, help="Delete repositories named PREFIX/… (e.g. your cluster name); nothing else."
)
@click.option(
    "--region",
    "region",
    envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
    help="AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION; one of the three is needed).",
)
@click.option("--registry-id", metavar="ACCOUNT", help="Registry (account) id, if not the caller's.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def ecr_delete_repos(prefix: str, region: str | None, registry_id: str | None, dry_run: bool, yes: bool) -> None:
    """Delete every ECR repository under a prefix, images included (the troubleshooting clean-up)."""
    if not region:
        raise InputError("no AWS region: pass --region or set AWS_REGION")
    prefix = prefix.strip().rstrip("/")
    if not prefix:
        raise InputError("--prefix must not be empty: that would name every repository")
    repositories = ecr.Repositories(ecr.client("ecr", region), registry_id)
    names = repositories.under(prefix)
    if not names:
        click.echo(f"no repositories under {prefix}/ in {region}")
        return
    for name in names:
        click.echo(name)
    if dry_run:
        click.echo(f"{plural(len(names), 'repository', 'repositories')} would be deleted (dry run)")
        return
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise InputError("refusing to delete without confirmation: pass --yes when not on a terminal")
        counted = plural(len(names), "repository", "repositories")
        click.confirm(f"delete these {counted} and all their images?", abort=True)
    repositories.delete(names, prefix)
    click.echo(f"deleted {plural(len(names), 'repository', 'repositories')} under {prefix}/")


@ecr_group.command("import-commands")
@run_config_options()
@click.option(
    "--module-address",
    default="module.nvcf_mirror",
    show_default=True,
    help="Address of the nvcf-mirror module in your root module.",
)
def ecr_import_commands(common: RunConfig, module_address: str) -> None:
    """Print a `terraform import` line for each of the module's repositories that already exists.

    For an upgrade from the module version that created repositories outside Terraform state:
    only the repositories of the selected artifacts are listed, never others under the prefix."""
    if not re.fullmatch(r"module\.[A-Za-z0-9_-]+(\[[^\]]+\])?(\.module\.[A-Za-z0-9_-]+(\[[^\]]+\])?)*", module_address):
        raise InputError(f"--module-address {module_address!r}: expected e.g. module.nvcf_mirror")
    wanted = sorted({job.target.repository for job in common.jobs() if not job.skip_reason})
    existing = set(common.access.repositories().existing(wanted))
    for name in wanted:
        if name in existing:
            click.echo(f"terraform import '{module_address}.aws_ecr_repository.this[\"{name}\"]' {name}")
