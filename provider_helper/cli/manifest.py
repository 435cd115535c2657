"""manifest validate, show, import, diff."""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from provider_helper import importers
from provider_helper import manifest as manifest_mod
from provider_helper.cli.root import cli
from provider_helper.errors import InputError
from provider_helper.fsutil import atomic_write
from provider_helper.mirror import diff as diff_mod
from provider_helper.wording import plural


@cli.group("manifest")
def manifest_group() -> None:
    """Check, list and import artifact manifests."""


@manifest_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def manifest_validate(file: str) -> None:
    """Check FILE against the schema and the rules a schema cannot express."""
    loaded = manifest_mod.load(file)
    click.echo(f"{file}: ok ({plural(len(loaded.artifacts), 'artifact')} in {plural(len(loaded.groups), 'group')})")


@manifest_group.command("show")
@click.option(
    "--manifest", "file", type=click.Path(dir_okay=False), help="Manifest (default: the bundled NVCF v0.5 list)."
)
@click.option("--release", metavar="NAME", help=f"A bundled NVCF release: {', '.join(manifest_mod.releases())}.")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Only these groups (repeatable).")
def manifest_show(file: str | None, release: str | None, groups: tuple[str, ...]) -> None:
    """List groups, whether each is selected by default, and their artifacts; with no option, the bundled releases."""
    if not (file or release or groups):
        _show_releases()
        return
    loaded = manifest_mod.load(file, release)
    names = {g.name for g in loaded.groups}
    for name in groups:
        if name not in names:
            raise InputError(f"--group {name}: no such group in {loaded.origin} (groups: {', '.join(sorted(names))})")
    for group in loaded.groups:
        if groups and group.name not in groups:
            continue
        members = [a for a in loaded.artifacts if a.group == group.name]
        marker = "default" if group.default else "opt-in"
        click.echo(f"{group.name} ({marker}, {plural(len(members), 'artifact')}): {group.description}")
        for a in members:
            pin = "  [needs a version]" if a.needs_version else ""
            click.echo(f"  {a.type:8} {a.name}:{a.tag or '?'}  <- {a.source_text}{pin}")


def _show_releases() -> None:
    for name in manifest_mod.releases():
        loaded = manifest_mod.load(release=name)
        default = sum(1 for a in loaded.artifacts if a.group in loaded.default_groups)
        marker = " (the default)" if name == manifest_mod.DEFAULT_RELEASE else ""
        click.echo(
            f"{name}{marker}: {loaded.description or name}; {len(loaded.artifacts)} artifacts, "
            f"{default} selected by default (groups: {', '.join(loaded.default_groups)})"
        )
    click.echo(
        "nvcf-mirror manifest show --release NAME lists one; --release NAME picks one for plan, mirror and the rest"
    )


@manifest_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--group",
    default="imported",
    show_default=True,
    help="Group the imported artifacts belong to (an NVIDIA page's groups come from its stacks and tables).",
)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of standard output.")
def manifest_import(file: str, group: str, output: str | None) -> None:
    """Turn NVIDIA's artifact-manifest page (markdown), a skopeo sync YAML file or a list of references
    (one per line) into a manifest."""
    doc = importers.from_text(Path(file).read_text(), file, group)
    text = yaml.safe_dump(doc, sort_keys=False)
    manifest_mod.parse(text, output or "<imported>")  # what we write must load
    if output:
        atomic_write(Path(output), text)
    else:
        click.echo(text, nl=False)


@manifest_group.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="NAME",
    help="Compare these groups of a manifest (repeatable; default: its default groups).",
)
@click.option("--all-groups", is_flag=True, help="Compare every group of a manifest.")
def manifest_diff(old: str, new: str, output: str, groups: tuple[str, ...], all_groups: bool) -> None:
    """Artifacts added, removed and changed (same type and name, another version) from OLD to NEW.

    OLD and NEW: a manifest file, a bundled release name (v0.5), or a bundle (layout directory, .tar,
    or its lock file), whose lock lists the selection it was saved with."""
    if groups and all_groups:
        raise InputError("--group and --all-groups exclude each other")
    result = diff_mod.diff(old, new, diff_mod.GroupChoice(groups, all_groups))
    if output == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo("\n".join(diff_mod.table_lines(result)))
