"""Mutation harness: break one safety property or documented behaviour at a time and check that the
suite notices.

For each entry of mutations.yaml: replace ``old`` by ``new`` in ``file`` (``old`` must occur exactly
once), run the test *files* its named tests live in (the area's tests, as a user of the suite runs
them, not only the test written for it), restore the file, and record whether they failed
("caught"). The table goes to results.md. Run by hand, like the benchmarks, never in CI:

    .venv/bin/python mutation/run.py                 # every mutation, each against its area's test files
    .venv/bin/python mutation/run.py engine-digest   # the ones whose id contains this text
    .venv/bin/python mutation/run.py --named ...     # only the named tests (quicker, weaker)
    .venv/bin/python mutation/run.py --list FILE     # another list of the same shape (an independent audit's)
    .venv/bin/python mutation/run.py --list FILE --modules # the area also takes the files named for the module
    .venv/bin/python mutation/run.py --list FILE --suite   # and a mutation its area misses runs against the suite

With ``--suite`` (how an independent audit is scored: "does the suite notice?"), the area also takes the test files
named for the mutated module (``tests/test_<module>.py``, ``tests/test_<package>_<module>.py``), and a mutation
that area misses runs once more against the whole suite (``tests/``, -n 3 -x) before it counts as missed. The
result line says which of the two caught it.

It edits the working tree and restores each file in a ``finally``; it refuses to start with
uncommitted changes under provider_helper/ or terraform/, so a killed run is undone by
``git checkout -- provider_helper terraform``. New safety code adds its mutation to the list.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
TERRAFORM_TESTS = "tests/terraform/"


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    old: str
    new: str
    tests: list[str]
    breaks: str


def load(path: Path = HERE / "mutations.yaml") -> list[Mutation]:
    raw = yaml.safe_load(path.read_text())
    return [Mutation(**entry) for entry in raw]


def area(mutation: Mutation) -> list[str]:
    """The test files the mutation's named tests live in. Terraform's file is the exception: run whole it
    takes about eight minutes on 2 cores, so its mutations run the tests named for them."""
    files = {test.split("::")[0] for test in mutation.tests if not test.startswith(TERRAFORM_TESTS)}
    return sorted(files) + [test for test in mutation.tests if test.startswith(TERRAFORM_TESTS)]


def module_files(mutation: Mutation) -> list[str]:
    """The test files named for the mutated module, where they exist (a newcomer finds a module's tests so)."""
    path = Path(mutation.file)
    if path.parts[0] != "provider_helper" or path.suffix != ".py":
        return []
    names = [f"tests/test_{path.stem}.py"]
    if len(path.parts) > 2:
        names.append(f"tests/test_{path.parts[-2]}_{path.stem}.py")
    return [name for name in names if (ROOT / name).is_file()]


def suite_area(mutation: Mutation) -> list[str]:
    """--suite's first round: the named tests' files and the module's own files."""
    named = area(mutation)
    return named + [name for name in module_files(mutation) if name not in named]


def run(mutation: Mutation, named: bool = False, modules: bool = False, suite: bool = False) -> tuple[bool, float, str]:
    """Apply, test, restore. Returns (caught, seconds, the tests' last line)."""
    path = ROOT / mutation.file
    original = path.read_text()
    if original.count(mutation.old) != 1:
        raise SystemExit(
            f"{mutation.id}: the text to replace occurs {original.count(mutation.old)} times in {mutation.file}, not once"
        )
    mutated = original.replace(mutation.old, mutation.new)
    if path.suffix == ".py":
        try:
            compile(mutated, str(path), "exec")  # a mutation that does not even import would be "caught" by any test
        except SyntaxError as exc:
            raise SystemExit(f"{mutation.id}: the mutated {mutation.file} does not compile: {exc}") from None
    started = time.monotonic()
    try:
        path.write_text(mutated)
        if named:
            done = pytest(mutation.tests)
        else:
            done = pytest(["-n", "3", *(suite_area(mutation) if modules or suite else area(mutation))])
            if suite and done.returncode == 0:
                done = pytest(["-n", "3", "tests/"])
                if done.returncode != 0:
                    done.stdout += "\n(caught by the suite, not the area)"
    finally:
        path.write_text(original)
        # the suite's session start compiles the package (tests/conftest.py), so the mutant's .pyc was written;
        # a same-size original restored within the second it was mutated would match it, and import the mutant
        if path.suffix == ".py":
            Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode not in (0, 1, 2):  # 3 internal error, 4 usage (a named file is missing), 5 nothing collected
        raise SystemExit(f"{mutation.id}: pytest could not run the area (exit {done.returncode}): {last}")
    return done.returncode != 0, time.monotonic() - started, last


def pytest(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        # no .pyc of the mutated file: a same-size mutation restored within the same second would leave a
        # cache entry that matches the restored file's size and mtime, and later runs would import the mutant
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def main(argv: list[str]) -> int:
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "provider_helper", "terraform"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    if dirty.strip():
        print(
            "commit or stash your changes under provider_helper/ and terraform/ first: this harness edits them",
            file=sys.stderr,
        )
        return 2
    named, modules, suite = "--named" in argv, "--modules" in argv, "--suite" in argv
    argv = [a for a in argv if a not in ("--named", "--modules", "--suite")]
    listed = None
    if "--list" in argv:
        at = argv.index("--list")
        listed, argv = Path(argv[at + 1]).resolve(), argv[:at] + argv[at + 2 :]
    chosen = [m for m in (load(listed) if listed else load()) if not argv or any(a in m.id for a in argv)]
    rows = []
    for mutation in chosen:
        caught, seconds, last = run(mutation, named, modules, suite)
        rows.append((mutation, caught, seconds, last))
        print(f"{'caught' if caught else 'MISSED'}  {mutation.id}  ({seconds:.0f} s)  {last}", flush=True)
    if not argv and not named and listed is None:
        write_results(rows)
    missed = [m.id for m, caught, _, _ in rows if not caught]
    print(
        f"{len(rows) - len(missed)} of {len(rows)} mutations caught"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return 1 if missed else 0


def write_results(rows: list[tuple[Mutation, bool, float, str]]) -> None:
    lines = [
        "# Mutation results",
        "",
        f"Run by `mutation/run.py` on {time.strftime('%Y-%m-%d')}: each row is one exact edit of mutations.yaml, the test",
        "files of its area (those its named tests live in, run whole with -n 3 -x; for Terraform, the named tests), and",
        "whether they failed (caught).",
        "Every row must say caught.",
        "",
        "| mutation | breaks | file | area | result | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for mutation, caught, seconds, _ in rows:
        tests = "<br>".join(area(mutation))
        lines.append(
            f"| `{mutation.id}` | {mutation.breaks} | `{mutation.file}` | {tests} | {'caught' if caught else '**missed**'} | {seconds:.0f} |"
        )
    caught = sum(1 for _, c, _, _ in rows if c)
    lines += ["", f"{caught} of {len(rows)} caught.", ""]
    (HERE / "results.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
