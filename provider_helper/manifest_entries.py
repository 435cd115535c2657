"""The checks of one manifest entry a schema cannot say (a group that exists, a source that parses, a
name that can name a repository), and where in the file each problem is: ``Locator`` turns a path in the
document into ``file:line: path`` from the YAML node tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from provider_helper.artifacts import Artifact, ResourceRef
from provider_helper.errors import InputError
from provider_helper.oci.reference import chart_tag, is_repository_path, is_tag, parse_platform, parse_reference

_RESOURCE_RE = re.compile(
    r"(?P<org>[\w.-]+)/(?:(?P<team>[\w.-]+)/)?(?P<name>[\w.-]+)(?::(?P<version>[\w][\w.+-]*))?", re.ASCII
)


def entry_artifact(raw: dict[str, Any], index: int, groups: set[str], locate: Locator) -> Artifact:
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


def duplicates(values: Sequence[Any], where: Any, what: str) -> list[str]:
    seen: dict[Any, int] = {}
    found = []
    for i, value in enumerate(values):
        if value in seen:
            label = what.format(value) if "{" in what else f"{what} {value!r}"
            found.append(f"{where(i)}: duplicate {label}, also at {where(seen[value])}")
        else:
            seen[value] = i
    return found


def schema_message(error: Any) -> str:
    """A jsonschema ValidationError in the manifest's words."""
    if error.validator == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        return f"{error.instance!r} is not one of {', '.join(map(str, allowed))}"
    if error.validator == "additionalProperties":
        return f"unknown field: {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "not":
        return "an image takes 'source' only, not repo/chart/version"
    return str(error.message)


class Locator:
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
