"""prune: remove what an upgrade left behind under the target's prefix."""

from __future__ import annotations

import sys

import click

from provider_helper.cli.options import common_options
from provider_helper.cli.root import cli
from provider_helper.errors import InputError
from provider_helper.mirror.prune import PrunePlan
from provider_helper.progress import summary_log
from provider_helper.results import human_bytes
from provider_helper.session import RunConfig
from provider_helper.usecases.prune import prune as prune_target


@cli.command()
@common_options
@click.option(
    "--dry-run", is_flag=True, help="List each tag that would be removed, with its digest and size; remove nothing."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def prune(common: RunConfig, dry_run: bool, yes: bool) -> None:
    """Remove the tags the selection no longer lists (superseded versions) under the target's prefix.

    Only in the repositories the selection names; with what cosign or the referrers fallback attached
    to them. A digest a kept tag points at is never removed."""

    def what(plan: PrunePlan) -> str:
        referrers = len(plan.removals) - plan.tags
        return f"{plan.tags} tags and {referrers} referrers ({human_bytes(plan.size)}) under {common.target}"

    def listed_then_confirmed(plan: PrunePlan) -> bool:
        for removal in plan.removals:
            click.echo(removal.line())
        for kept in plan.kept:
            click.echo(
                f"{kept.repo}:{kept.tag}  {kept.digest[:19]}  "
                f"kept: the selection's {kept.shared_with} points at the same digest"
            )
        if not plan.removals:
            return False
        if dry_run:
            return False
        if not yes:
            if sys.stdin is None or not sys.stdin.isatty():
                raise InputError(
                    f"refusing to remove {what(plan)} without confirmation: pass --yes when not on a terminal"
                )
            click.confirm(f"remove {what(plan)}?", abort=True)
        return True

    plan, removed = prune_target(common, listed_then_confirmed)
    if removed:
        summary_log.info("removed %s", what(plan))
    elif not plan.removals:
        summary_log.info("nothing to prune under %s", common.target)
    else:
        summary_log.info("%s would be removed (dry run)", what(plan))
