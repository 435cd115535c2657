"""The artifact manifest: load and validate (JSON Schema, then what a schema cannot say: ``manifest_entries``).
The artifacts it holds are ``artifacts``'; choosing from a loaded manifest is ``selection``'s.

Every error names the file, the line, the path in the document and what is wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from provider_helper.artifacts import Artifact, Group
from provider_helper.cachedir import cache_dir, private_cache, private_cache_file
from provider_helper.errors import InputError, ManifestError
from provider_helper.manifest_entries import Locator, duplicates, entry_artifact, schema_message
from provider_helper.selection import ArtifactManifest
from provider_helper.wording import setting
from provider_helper.yamlload import load_with_nodes

BUNDLED = "nvcf-v0.5.yaml"
DEFAULT_RELEASE = "v0.5"
# The NVCF releases bundled beside the default, oldest first: made by ``manifest import`` from NVIDIA's pages.
RELEASES = ("v0.5", "v0.6.0", "v0.6.1", "v1.0")


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files("provider_helper.manifests").joinpath("schema.json").read_text()
    )
    return loaded


def releases() -> list[str]:
    """The names ``--release`` takes, oldest first."""
    return list(RELEASES)


def bundled_path(release: str | None = None, *, as_diff_side: bool = False) -> Path:
    """The bundled manifest of ``release`` (``v0.5``, ``v1.0``, …; None: the default, v0.5). The one check of a
    release name; ``as_diff_side``: the name is a side of ``manifest diff``, not a ``--release``, and its refusal
    says so."""
    name = release or DEFAULT_RELEASE
    if name not in RELEASES:
        if as_diff_side:
            raise InputError(f"{name}: not a bundled NVCF release (bundled: {', '.join(RELEASES)})")
        raise InputError(f"{setting('release')} {name}: no such bundled release (releases: {', '.join(RELEASES)})")
    return Path(str(resources.files("provider_helper.manifests").joinpath(f"nvcf-{name}.yaml")))


def load(path: str | Path | None = None, release: str | None = None) -> ArtifactManifest:
    """Load and check a manifest file (the bundled NVCF list of ``release`` when ``path`` is None)."""
    if path and release:
        both = f"{setting('manifest')} and {setting('release')}"
        raise InputError(f"{both} exclude each other: name a file or a bundled release")
    file = Path(path) if path else bundled_path(release)
    try:
        text = file.read_text()
    except OSError as exc:
        raise InputError(f"{file}: cannot read manifest: {exc.strerror}") from None
    return parse(text, str(file))


def parse(text: str, origin: str) -> ArtifactManifest:
    try:
        root, data = load_with_nodes(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{origin}{line}: not valid YAML: {problem}") from None
    locate = Locator(origin, root)
    if not isinstance(data, dict):
        raise InputError(f"{origin}:1: the manifest must be a mapping with apiVersion, groups and artifacts")
    problems, broken = _check_schema(text, data, locate)
    if any(len(path) < 2 for path in broken):  # the document's shape itself is wrong: nothing below can be read
        raise ManifestError(problems)
    raw_groups = [(i, g) for i, g in enumerate(data["groups"]) if ("groups", i) not in broken]
    groups = tuple(Group(g["name"], g.get("default", False), g.get("description", "")) for _, g in raw_groups)
    problems += duplicates([g.name for g in groups], lambda n: locate(["groups", raw_groups[n][0], "name"]), "group")
    names = {g.name for g in groups}
    names |= {g["name"] for g in data["groups"] if isinstance(g, dict) and isinstance(g.get("name"), str)}
    parsed: list[tuple[int, Artifact]] = []
    for i, raw in enumerate(data["artifacts"]):
        if ("artifacts", i) in broken:
            continue  # its schema errors are reported; the rules below need a well-formed entry
        try:
            parsed.append((i, entry_artifact(raw, i, names, locate)))
        except InputError as exc:
            problems.append(str(exc))
    placed = [(i, a) for i, a in parsed if a.tag]
    problems += duplicates(
        [(a.name, a.tag) for _, a in placed], lambda n: locate(["artifacts", placed[n][0]]), "target {0[0]}:{0[1]}"
    )
    if problems:
        raise ManifestError(sorted(problems, key=lambda p: _line_of(p, origin)))
    description = data.get("description", "")
    artifacts = tuple(a for _, a in parsed)
    return ArtifactManifest(origin=origin, groups=groups, artifacts=artifacts, description=description)


def _line_of(problem: str, origin: str) -> int:
    found = re.match(rf"{re.escape(origin)}:(\d+):", problem)
    return int(found.group(1)) if found else 0


def _check_schema(text: str, data: dict[str, Any], locate: Locator) -> tuple[list[str], set[tuple[Any, ...]]]:
    """Check ``data`` against the schema: each problem in words, and the entries (``("artifacts", 3)``) that
    have one, so the rules a schema cannot express are checked on the others in the same run. A text that
    passed once is remembered by the hash of text and schema, so a later run (every Terraform plan) skips
    jsonschema and its import."""
    key = hashlib.sha256(json.dumps(schema(), sort_keys=True).encode() + b"\0" + text.encode()).hexdigest()
    passed = cache_dir() / "schema-checked" / key
    if passed.exists():
        return [], set()
    import jsonschema

    by_entry: dict[tuple[Any, ...], list[Any]] = {}
    for error in jsonschema.Draft202012Validator(schema()).iter_errors(data):
        by_entry.setdefault(tuple(error.absolute_path)[:2], []).append(error)  # ("artifacts", 3): one entry
    if by_entry:
        best = sorted(
            (jsonschema.exceptions.best_match(errors) for errors in by_entry.values()),
            key=lambda e: locate.line(e.absolute_path),
        )
        return [f"{locate(error.absolute_path)}: {schema_message(error)}" for error in best], set(by_entry)
    with contextlib.suppress(OSError, InputError):
        private_cache_file(private_cache("schema-checked") / key)
    return [], set()
