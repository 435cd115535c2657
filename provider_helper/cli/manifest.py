"""manifest validate, show, import."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from provider_helper import importers
from provider_helper import manifest as manifest_mod
from provider_helper.cli.root import cli
from provider_helper.errors import InputError
from provider_helper.fsutil import atomic_write


@cli.group("manifest")
def manifest_group() -> None:
    """Check, list and import artifact manifests."""


@manifest_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def manifest_validate(file: str) -> None:
    """Check FILE against the schema and the rules a schema cannot express."""
    loaded = manifest_mod.load(file)
    click.echo(f"{file}: ok ({len(loaded.artifacts)} artifacts in {len(loaded.groups)} groups)")


@manifest_group.command("show")
@click.option("--manifest", "file", type=click.Path(dir_okay=False), help="Manifest (default: the bundled NVCF v0.5 list).")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Only these groups (repeatable).")
def manifest_show(file: str | None, groups: tuple[str, ...]) -> None:
    """List groups, whether each is selected by default, and their artifacts."""
    loaded = manifest_mod.load(file)
    names = {g.name for g in loaded.groups}
    for name in groups:
        if name not in names:
            raise InputError(f"--group {name}: no such group in {loaded.origin} (groups: {', '.join(sorted(names))})")
    for group in loaded.groups:
        if groups and group.name not in groups:
            continue
        members = [a for a in loaded.artifacts if a.group == group.name]
        marker = "default" if group.default else "opt-in"
        click.echo(f"{group.name} ({marker}, {len(members)} artifacts): {group.description}")
        for a in members:
            pin = "  [needs a version]" if a.needs_version else ""
            click.echo(f"  {a.type:8} {a.name}:{a.tag or '?'}  <- {a.source_text}{pin}")


@manifest_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--group", default="imported", show_default=True, help="Group the imported artifacts belong to.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of standard output.")
def manifest_import(file: str, group: str, output: str | None) -> None:
    """Turn a skopeo sync YAML file or a list of references (one per line) into a manifest."""
    doc = importers.from_text(Path(file).read_text(), file, group)
    text = yaml.safe_dump(doc, sort_keys=False)
    manifest_mod.parse(text, output or "<imported>")  # what we write must load
    if output:
        atomic_write(Path(output), text)
    else:
        click.echo(text, nl=False)
