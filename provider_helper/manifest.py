"""The artifact manifest: load, validate (JSON Schema plus what a schema cannot say), select.

Every error names the file, the line, the path in the document and what is wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from provider_helper.cachedir import cache_dir, private_cache, private_cache_file
from provider_helper.errors import InputError, ManifestError, SettingError
from provider_helper.oci.reference import (
    Platform,
    Reference,
    chart_tag,
    is_repository_path,
    is_tag,
    parse_platform,
    parse_reference,
)
from provider_helper.redact import redact_url
from provider_helper.wording import setting
from provider_helper.yamlload import load_with_nodes

BUNDLED = "nvcf-v0.5.yaml"
DEFAULT_RELEASE = "v0.5"
# The NVCF releases bundled beside the default, oldest first: made by ``manifest import`` from NVIDIA's pages.
RELEASES = ("v0.5", "v0.6.0", "v0.6.1", "v1.0")
_RESOURCE_RE = re.compile(
    r"(?P<org>[\w.-]+)/(?:(?P<team>[\w.-]+)/)?(?P<name>[\w.-]+)(?::(?P<version>[\w][\w.+-]*))?", re.ASCII
)


@dataclass(frozen=True)
class Group:
    name: str
    default: bool
    description: str = ""


@dataclass(frozen=True)
class ResourceRef:
    """An NGC resource: ``org/[team/]name:version``."""

    org: str
    team: str | None
    name: str
    version: str | None

    def __str__(self) -> str:
        path = "/".join(p for p in (self.org, self.team, self.name) if p)
        return f"{path}:{self.version}" if self.version else path


# What kind of artifact a manifest entry is (its ``type``): mypy checks every value set or compared.
ArtifactType = Literal["image", "chart", "resource"]


@dataclass(frozen=True)
class Artifact:
    """One manifest entry. Exactly one of ``image`` (image, OCI chart), ``classic`` fields, ``resource`` is set."""

    type: ArtifactType
    group: str
    name: str
    where: str  # "file:line", for messages
    image: Reference | None = None
    repo: str | None = None
    chart: str | None = None
    version: str | None = None
    resource: ResourceRef | None = None
    platforms: tuple[Platform, ...] | None = None
    needs_version: bool = False
    note: str = ""
    resolved_from: str | None = None  # "latest": the version was chosen by resolving --set-version NAME=latest

    @property
    def is_classic_chart(self) -> bool:
        return self.type == "chart" and self.repo is not None

    @property
    def tag(self) -> str | None:
        """Target tag; None while the artifact still needs a version."""
        if self.image is not None:
            return self.image.tag or (self.image.digest.replace(":", "-")[:128] if self.image.digest else None)
        if self.resource is not None:
            return self.resource.version
        return chart_tag(self.version) if self.version else None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.name}:{self.tag or '<unpinned>'}"

    @property
    def source_text(self) -> str:
        """How the result document writes the source."""
        if self.image is not None:
            return str(self.image)
        if self.resource is not None:
            return str(self.resource)
        repo = redact_url(self.repo or "")
        return f"{repo}/{self.chart}:{self.version}" if self.version else f"{repo}/{self.chart}"

    def entry(self) -> dict[str, Any]:
        """This artifact as a manifest entry again (what a lock file records)."""
        entry: dict[str, Any] = {"type": self.type, "group": self.group, "name": self.name}
        if self.image is not None or self.resource is not None:
            entry["source"] = str(self.image if self.image is not None else self.resource)
        else:
            entry.update(
                {
                    "repo": redact_url(self.repo or ""),
                    "chart": self.chart,
                    **({"version": self.version} if self.version else {}),
                }
            )
        if self.platforms:
            entry["platforms"] = [str(p) for p in self.platforms]
        if self.needs_version:
            entry["needs_version"] = True
        return entry

    def pinned(self, version: str, resolved_from: str | None = None) -> Artifact:
        """This artifact with the version a user supplied (``--set-version``) or a resolution chose."""
        if not is_tag(chart_tag(version) if self.chart else version) or ".." in version:
            raise SettingError("set_versions", self.name, "not a valid version", value=version)
        if self.image is not None:
            return replace(
                self, image=replace(self.image, tag=version), needs_version=False, resolved_from=resolved_from
            )
        if self.resource is not None:
            return replace(
                self, resource=replace(self.resource, version=version), needs_version=False, resolved_from=resolved_from
            )
        return replace(self, version=version, needs_version=False, resolved_from=resolved_from)

    @property
    def version_text(self) -> str | None:
        """The version as pinned, whatever the kind: image tag, chart version or resource version."""
        if self.image is not None:
            return self.image.tag
        if self.resource is not None:
            return self.resource.version
        return self.version


@dataclass(frozen=True)
class ArtifactManifest:
    origin: str
    groups: tuple[Group, ...]
    artifacts: tuple[Artifact, ...]
    description: str = ""

    @property
    def default_groups(self) -> list[str]:
        return [g.name for g in self.groups if g.default]

    def select(
        self,
        groups: Sequence[str] = (),
        *,
        all_groups: bool = False,
        versions: Mapping[str, str] | None = None,
        excludes: Sequence[str] = (),
    ) -> list[Artifact]:
        """The artifacts of the chosen groups (default groups when none are named), pinned by ``versions``,
        less those named in ``excludes`` (a name the manifest does not list is a mistake, not a no-op).

        A pin names an artifact (``NAME``) or one of its entries (``NAME:TAG``, where a name has several);
        a name that matches several selected entries, or a selection with two entries on one target, is refused."""
        names = {a.name for a in self.artifacts}
        for name in excludes:
            if name not in names:
                raise SettingError("excludes", name, f"no artifact of {self.origin} has that name")
        known = {g.name for g in self.groups}
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise SettingError(
                "groups", unknown[0], f"no such group in {self.origin} (groups: {', '.join(sorted(known))})"
            )
        chosen = known if all_groups else set(groups or self.default_groups)
        selected = [a for a in self.artifacts if a.group in chosen and a.name not in excludes]
        pinned = dict(enumerate(selected))
        for key, version in (versions or {}).items():
            for index in self._entries_for(key, version, selected, excludes):
                pinned[index] = pinned[index].pinned(version)
        chosen_artifacts = list(pinned.values())
        check_targets(chosen_artifacts)
        return chosen_artifacts

    def _entries_for(self, key: str, version: str, selected: list[Artifact], excludes: Sequence[str] = ()) -> list[int]:
        """The indexes in ``selected`` that the pin ``key`` (``NAME`` or ``NAME:TAG``) names: exactly one per pin."""
        name, _, current = key.partition(":")
        named = [i for i, a in enumerate(selected) if a.name == name]
        found = [i for i in named if not current or selected[i].version_text == current]
        if len(found) > 1:
            selected[found[0]].pinned(version)  # a version that is not one is the first thing to say
            entries = ", ".join(
                f"{name}:{selected[i].version_text or '<unpinned>'} ({selected[i].where})" for i in found
            )
            one = f"{name}:{selected[found[0]].version_text}"
            flag = setting("set_versions")
            how = f'{flag} = {{ "{one}" = "{version}" }}' if flag == "set_versions" else f"{flag} {one}={version}"
            problem = f"{name} names {len(found)} entries: {entries}; pin one of them, e.g. {how}"
            raise SettingError("set_versions", key, problem, value=version)
        if found:
            return found
        if named:
            listed = ", ".join(f"{name}:{selected[i].version_text or '<unpinned>'}" for i in named)
            problem = f"no entry of {name} has version {current} (entries: {listed})"
            raise SettingError("set_versions", key, problem, value=version)
        if name in excludes:
            raise SettingError("set_versions", key, f"{name} is left out by {setting('excludes')}", value=version)
        elsewhere = sorted({a.group for a in self.artifacts if a.name == name})
        if elsewhere:
            problem = f"{name} is in group {', '.join(elsewhere)}, which is not selected"
            raise SettingError("set_versions", key, problem, value=version)
        raise SettingError("set_versions", key, f"no artifact of {self.origin} has that name", value=version)


def check_targets(artifacts: Sequence[Artifact]) -> None:
    """No two artifacts of a selection may land on one target: refused up front, naming both entries."""
    seen: dict[tuple[str, str], Artifact] = {}
    for artifact in artifacts:
        if not artifact.tag:
            continue
        first = seen.setdefault((artifact.name, artifact.tag), artifact)
        if first is not artifact:
            raise InputError(
                f"two artifacts land on one target {artifact.name}:{artifact.tag}: "
                f"{first.source_text} ({first.where}) and {artifact.source_text} ({artifact.where}); "
                "give one another 'name' or another version"
            )


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files("provider_helper.manifests").joinpath("schema.json").read_text()
    )
    return loaded


def releases() -> list[str]:
    """The names ``--release`` takes, oldest first."""
    return list(RELEASES)


def bundled_path(release: str | None = None) -> Path:
    """The bundled manifest of ``release`` (``v0.5``, ``v1.0``, …; None: the default, v0.5)."""
    name = release or DEFAULT_RELEASE
    if name not in RELEASES:
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
    locate = _Locator(origin, root)
    if not isinstance(data, dict):
        raise InputError(f"{origin}:1: the manifest must be a mapping with apiVersion, groups and artifacts")
    problems, broken = _check_schema(text, data, locate)
    if any(len(path) < 2 for path in broken):  # the document's shape itself is wrong: nothing below can be read
        raise ManifestError(problems)
    raw_groups = [(i, g) for i, g in enumerate(data["groups"]) if ("groups", i) not in broken]
    groups = tuple(Group(g["name"], g.get("default", False), g.get("description", "")) for _, g in raw_groups)
    problems += _duplicates([g.name for g in groups], lambda n: locate(["groups", raw_groups[n][0], "name"]), "group")
    names = {g.name for g in groups}
    names |= {g["name"] for g in data["groups"] if isinstance(g, dict) and isinstance(g.get("name"), str)}
    parsed: list[tuple[int, Artifact]] = []
    for i, raw in enumerate(data["artifacts"]):
        if ("artifacts", i) in broken:
            continue  # its schema errors are reported; the rules below need a well-formed entry
        try:
            parsed.append((i, _artifact(raw, i, names, locate)))
        except InputError as exc:
            problems.append(str(exc))
    placed = [(i, a) for i, a in parsed if a.tag]
    problems += _duplicates(
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


def _check_schema(text: str, data: dict[str, Any], locate: _Locator) -> tuple[list[str], set[tuple[Any, ...]]]:
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
        return [f"{locate(error.absolute_path)}: {_schema_message(error)}" for error in best], set(by_entry)
    with contextlib.suppress(OSError, InputError):
        private_cache_file(private_cache("schema-checked") / key)
    return [], set()


def _artifact(raw: dict[str, Any], index: int, groups: set[str], locate: _Locator) -> Artifact:
    path: list[Any] = ["artifacts", index]
    where = locate(path)
    if raw["group"] not in groups:
        raise InputError(
            f"{locate([*path, 'group'])}: unknown group {raw['group']!r} (groups: {', '.join(sorted(groups))})"
        )
    needs_version = bool(raw.get("needs_version", False))
    platforms = None
    if "platforms" in raw:
        platforms = tuple(
            _guard(locate([*path, "platforms", i]), parse_platform, p) for i, p in enumerate(raw["platforms"])
        )
    common = {
        "type": raw["type"],
        "group": raw["group"],
        "where": where,
        "platforms": platforms,
        "needs_version": needs_version,
        "note": raw.get("note", ""),
    }
    if raw["type"] == "resource":
        match = _RESOURCE_RE.fullmatch(raw["source"])
        if not match or (not match["version"] and not needs_version):
            raise InputError(f"{locate([*path, 'source'])}: resource {raw['source']!r} must be ORG/[TEAM/]NAME:VERSION")
        ref = ResourceRef(match["org"], match["team"], match["name"], match["version"])
        if not is_repository_path(raw.get("name", ref.name)):
            raise InputError(
                f"{locate([*path, 'source'])}: resource name {ref.name!r} cannot name a repository (set 'name')"
            )
        if ref.version and (not is_tag(ref.version) or ".." in ref.version):
            raise InputError(f"{locate([*path, 'source'])}: resource version {ref.version!r} is not a valid version")
        return Artifact(name=raw.get("name", ref.name), resource=ref, **common)
    if "repo" in raw:
        if "version" in raw and not is_tag(chart_tag(raw["version"])):
            raise InputError(f"{locate([*path, 'version'])}: chart version {raw['version']!r} is not a valid version")
        name = raw.get("name", raw["chart"])
        if not is_repository_path(name):
            raise InputError(f"{locate([*path, 'chart'])}: chart name {name!r} cannot name a repository (set 'name')")
        return Artifact(
            name=name, repo=raw["repo"].rstrip("/"), chart=raw["chart"], version=raw.get("version"), **common
        )
    ref = _guard(locate([*path, "source"]), lambda s: parse_reference(s, require_tag=not needs_version), raw["source"])
    if raw["type"] == "chart" and platforms:
        raise InputError(f"{locate([*path, 'platforms'])}: platforms apply to images only, not charts")
    return Artifact(name=raw.get("name", ref.name), image=ref, **common)


def _guard(where: str, parse_one: Any, value: Any) -> Any:
    try:
        return parse_one(value)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _duplicates(values: Sequence[Any], where: Any, what: str) -> list[str]:
    seen: dict[Any, int] = {}
    found = []
    for i, value in enumerate(values):
        if value in seen:
            label = what.format(value) if "{" in what else f"{what} {value!r}"
            found.append(f"{where(i)}: duplicate {label}, also at {where(seen[value])}")
        else:
            seen[value] = i
    return found


def _schema_message(error: Any) -> str:
    """A jsonschema ValidationError in the manifest's words."""
    if error.validator == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        return f"{error.instance!r} is not one of {', '.join(map(str, allowed))}"
    if error.validator == "additionalProperties":
        return f"unknown field: {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "not":
        return "an image takes 'source' only, not repo/chart/version"
    return str(error.message)


class _Locator:
    """Turns a path in the document into ``file:line: path`` using the YAML node tree."""

    def __init__(self, origin: str, root: yaml.Node | None) -> None:
        self.origin = origin
        self.root = root

    def __call__(self, path: Iterable[Any]) -> str:
        path = list(path)
        line = self.line(path)
        where = f"{self.origin}:{line}" if line else self.origin
        text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return f"{where}: {text}" if text else where

    def line(self, path: Iterable[Any]) -> int:
        """The 1-based line of the deepest node of ``path`` found in the document (0: no document)."""
        node = self.root
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
        return node.start_mark.line + 1 if node is not None else 0
