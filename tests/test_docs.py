"""The docs hold: every flag of every command's --help is in the README and back, and the behaviours
table (tests/BEHAVIOURS.md) names only tests that exist and covers every documented name."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import get_args

import click

from provider_helper.cli import cli
from provider_helper.exits import ExitCode
from provider_helper.results import ArtifactResult, Status

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
MODULE = REPO / "terraform" / "modules" / "nvcf-mirror"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Flags the README names that belong to other programs it shows beside nvcf-mirror.
FOREIGN_FLAGS = {
    "--key": "cosign verify",
    "--strict": "mypy",
    "--set": "bench/run.py",
    "--links": "bench/run.py",
    "--fast": "scripts/test.sh",
    "--verify": "helm pull",
    "--no-unpack": "ctr images import",
    "--check": "ruff format",
}


def _flags(command: click.Command, ctx: click.Context) -> set[str]:
    found = {
        o
        for p in command.get_params(ctx)
        if isinstance(p, click.Option)
        for o in (*p.opts, *p.secondary_opts)
        if o.startswith("--")
    }
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found |= _flags(sub, ctx)
    return found


def cli_flags() -> set[str]:
    return _flags(cli, click.Context(cli))


def test_every_flag_in_help_is_in_the_readme_and_back() -> None:
    readme = set(FLAG.findall((REPO / "README.md").read_text() + (MODULE / "README.md").read_text()))
    flags = cli_flags()
    assert flags - readme == set(), "flags in --help that the README does not mention"
    assert readme - flags - set(FOREIGN_FLAGS) == set(), "flags the README names that no command has"


def test_the_behaviours_table_names_real_tests_and_covers_every_documented_name() -> None:
    table = (TESTS / "BEHAVIOURS.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| behaviour")]
    assert len(rows) > 100
    for row in rows:
        assert "::test_" in row.rsplit("|", 2)[-2], f"a row without a test: {row}"
    for file, name in re.findall(r"`([\w/]+\.py)::(test_\w+)`", table):
        assert re.search(rf"^def {name}\(", (TESTS / file).read_text(), re.M), (
            f"{file}::{name} named in BEHAVIOURS.md does not exist"
        )
    assert not re.findall(r"`(test_\w+)`", table), "name tests as file::test"

    missing_flags = {f for f in cli_flags() if not re.search(rf"(?<![\w-]){f}(?![\w-])", table)}
    assert missing_flags == set(), "CLI flags without a row"
    fields = {f.name for f in dataclasses.fields(ArtifactResult)} - {"attached"}
    fields |= {"version", "target", "artifacts", "summary", "copied", "present", "failed", "seconds"}
    terraform = set(
        re.findall(
            r'^(?:variable|output) "(\w+)"',
            (MODULE / "variables.tf").read_text() + (MODULE / "outputs.tf").read_text(),
            re.M,
        )
    )
    assert {name for name in fields | terraform if f"`{name}`" not in table} == set(), (
        "result fields, variables or outputs without a row"
    )


def test_the_contracts_the_code_cites_are_written_in_the_repository() -> None:
    """Code that holds a contract names docs/CONTRACTS.md and its section: each section it names is
    there, and so is every result status and exit code the code knows."""
    contracts = (REPO / "docs" / "CONTRACTS.md").read_text()
    sections = set(re.findall(r"^## (.+)$", contracts, re.M))
    cited = {
        name
        for path in (REPO / "provider_helper").rglob("*.py")
        for name in re.findall(r'docs/CONTRACTS\.md, "([^"]+)"', path.read_text())
    }
    assert len(cited) >= 4 and cited <= sections, f"sections cited but not written: {sorted(cited - sections)}"
    assert [s for s in get_args(Status) if f"`{s}`" not in contracts] == [], (
        "statuses docs/CONTRACTS.md does not describe"
    )
    assert [int(c) for c in ExitCode if f"| {int(c)} |" not in contracts] == [], (
        "exit codes docs/CONTRACTS.md does not describe"
    )
