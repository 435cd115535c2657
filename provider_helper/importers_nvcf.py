"""NVIDIA's published NVCF artifact-manifest page (markdown, or its tables pasted into a file) as a manifest.

Two table shapes are read. The v0.5 page: ``Type | Component Name | Full Path`` under one heading per
group. The pages from v0.6.0 on: ``Artifact | Version | [Stack |] [Required |] … | Distribution | …``
under headings that name the plane ("Control plane Helm charts", "Tools and deployment resources").
A row's distribution says what it is: ``oci://`` an OCI chart, ``https://catalog.ngc.nvidia.com/…``
an NGC catalog page for an nvcr.io image, another ``https://`` a classic Helm repository chart, a
bare reference an image (an OCI chart under a "Helm charts" heading), and every row of the tools
table an NGC resource. Stacks become groups: Required rows in ``<stack>`` (selected by default),
Optional rows in ``<stack>-optional``; rows of stack Independent in ``independent[-optional]``,
rows naming several stacks in ``cross-stack[-optional]``, resources in ``deployment-resources``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from provider_helper.errors import InputError
from provider_helper.oci.reference import parse_reference

UNPINNED = {"", "supported", "latest", "-", "—"}
CATALOG = re.compile(
    r"https://catalog\.ngc\.nvidia\.com/orgs/(?P<org>[\w.-]+)/(?:teams/(?P<team>[\w.-]+)/)?"
    r"containers/(?P<name>[\w.-]+)/?",
    re.ASCII,
)
RESOURCES_GROUP = "deployment-resources"
# Target names the releases' Helmfile values expect where the source's last path component is not it
# (nvcf-self-managed-stack: ``api.accountBootstrap.image.repository: <repository>/alpine-k8s``).
HELMFILE_NAMES = {"docker.io/alpine/k8s": "alpine-k8s"}
# Classic charts a page names by another name than the repository's index does.
CHART_NAMES = {("https://kubernetes-sigs.github.io/aws-ebs-csi-driver", "ebs-csi-driver"): "aws-ebs-csi-driver"}
# Headings of the pages from v0.6.0 on, and the stack their rows belong to when the table has no Stack column.
HEADING_STACKS = (
    ("control plane", "self-managed"),
    ("compute plane", "compute-plane"),
    ("observability", "observability"),
    ("cross-stack", "cross-stack"),
)
STACK_WORDS = {
    "self-managed": "self-managed stack (control plane)",
    "compute-plane": "compute-plane stack",
    "observability": "observability stack",
}


@dataclass
class _Table:
    heading: str
    columns: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def looks_like_page(text: str) -> bool:
    """A markdown table with an artifact (or component) column and a distribution (or full path) column."""
    return any(
        t.columns
        and _column(t, "artifact", "component name") is not None
        and _column(t, "distribution", "full path") is not None
        for t in _tables(text)
    )


def from_page(text: str, origin: str) -> dict[str, Any]:
    """The manifest of an NVIDIA artifact-manifest page (every table it holds)."""
    entries: list[dict[str, Any]] = []
    groups: dict[str, set[str]] = {}  # group -> the stacks its rows name
    for table in _tables(text):
        name_at, where_at = _column(table, "artifact", "component name"), _column(table, "distribution", "full path")
        if name_at is None or where_at is None:
            continue  # stack releases, descriptions, value tables
        for line, cells in table.rows:
            try:
                entry, stacks = _row(table, cells, name_at, where_at)
            except InputError as exc:
                raise InputError(f"{origin}:{line}: {exc}") from None
            entries.append(entry)
            groups.setdefault(entry["group"], set()).update(stacks)
    if not entries:
        raise InputError(
            f"{origin}: no artifact table found "
            "(expected columns Artifact and Distribution, or Component Name and Full Path)"
        )
    _separate_charts_from_images(entries)
    return {
        "apiVersion": "nvcf-mirror/v1",
        "description": _description(entries),
        "groups": [_group(name, groups[name]) for name in _group_order(groups)],
        "artifacts": entries,
    }


def _tables(text: str) -> list[_Table]:
    tables: list[_Table] = []
    heading, current = "", None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            heading, current = line.lstrip("#").strip(), None
            continue
        if not line.startswith("|"):
            current = None
            continue
        cells = _cells(line)
        if current is None:
            current = _Table(heading, [c.lower() for c in cells])
            tables.append(current)
        elif all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue  # the separator row
        else:
            current.rows.append((number, cells))
    return tables


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [c.strip() for c in inner.split("|")]


def _column(table: _Table, *names: str) -> int | None:
    return next((i for i, c in enumerate(table.columns) if c in names), None)


def _code(cell: str) -> str:
    """The first `code` span of a cell (``nvcr.io/…:1.0` or public NGC`` → the reference), else the cell."""
    found = re.search(r"`([^`]*)`", cell)
    return (found.group(1) if found else cell).strip()


def _row(table: _Table, cells: list[str], name_at: int, where_at: int) -> tuple[dict[str, Any], set[str]]:
    def cell(column: int | None) -> str:
        return cells[column] if column is not None and column < len(cells) else ""

    artifact = _code(cell(name_at))
    where = _code(cell(where_at))
    listed = _code(cell(_column(table, "version")))
    version = None if listed.lower() in UNPINNED else listed
    kind = _kind(table, cell(_column(table, "type")), where)
    if kind == "resource":
        return _ordered({**_resource(where, version), "group": RESOURCES_GROUP}), set()
    if kind == "classic":
        entry = _classic(artifact, where, version)
    else:
        entry = _image(artifact, where, version, kind)
    group, stacks = _group_of(table, cell(_column(table, "stack")), cell(_column(table, "required")))
    entry["group"] = group
    return _ordered(entry), stacks


def _kind(table: _Table, type_cell: str, where: str) -> str:
    typed = type_cell.lower()
    if typed:  # the v0.5 page says what each row is
        if typed.startswith("resource"):
            return "resource"
        if "http" in typed:
            return "classic"
        return "oci-chart" if typed.startswith("chart") else "image"
    heading = table.heading.lower()
    if "tools" in heading or "resources" in heading:
        return "resource"
    if where.startswith("oci://"):
        return "oci-chart"
    if CATALOG.fullmatch(where):
        return "image"
    if re.match(r"https?://", where):
        return "classic"
    return "oci-chart" if "chart" in heading else "image"


def _image(artifact: str, where: str, version: str | None, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "chart" if kind == "oci-chart" else "image"}
    catalog = CATALOG.fullmatch(where)
    if catalog:
        where = "/".join(p for p in ("nvcr.io", catalog["org"], catalog["team"], catalog["name"]) if p)
    ref = parse_reference(where.removeprefix("oci://"), require_tag=False)
    if not ref.tag and not ref.digest and version:
        ref = parse_reference(f"{ref}:{version}")
    entry["source"] = str(ref)
    name = HELMFILE_NAMES.get(f"{ref.registry}/{ref.repository}") or (artifact if catalog else ref.name)
    if name != ref.name:
        entry["name"] = name
    if not ref.tag and not ref.digest:
        entry["needs_version"] = True
        entry["note"] = f"published without a version; pin it with --set-version {name}=VERSION"
    elif version and ref.tag != version:
        entry["note"] = (
            f"the page's Version column says {version}; its distribution's tag {ref.tag} is what is mirrored"
        )
    return entry


def _classic(artifact: str, where: str, version: str | None) -> dict[str, Any]:
    url = where.rstrip("/")
    repo, _, last = url.rpartition("/")
    if ":" in last and "//" in repo:  # https://host/path/CHART:VERSION
        chart, _, pinned = last.partition(":")
        entry: dict[str, Any] = {"type": "chart", "repo": repo, "chart": chart, "version": pinned}
        if version and version != pinned:
            entry["note"] = (
                f"the page's Version column says {version}; its distribution's version {pinned} is what is mirrored"
            )
        return entry
    chart = CHART_NAMES.get((url, artifact), artifact)  # a bare repository URL: the chart is the row's artifact
    entry = {"type": "chart", "repo": url, "chart": chart}
    if version:
        entry["version"] = version
    else:
        entry["needs_version"] = True
        entry["note"] = f"published without a version; pin it with --set-version {chart}=VERSION"
    return entry


def _resource(where: str, version: str | None) -> dict[str, Any]:
    path = where.removeprefix("nvcr.io/")
    if ":" not in path.rsplit("/", 1)[-1] and version:
        path = f"{path}:{version}"
    if not re.fullmatch(r"[\w.-]+/(?:[\w.-]+/)?[\w.-]+:[\w][\w.+-]*", path, re.ASCII):
        raise InputError(f"resource {where!r}: expected nvcr.io/ORG/[TEAM/]NAME:VERSION")
    return {"type": "resource", "source": path}


def _group_of(table: _Table, stack_cell: str, required_cell: str) -> tuple[str, set[str]]:
    stacks = {s.strip().strip("`").strip().lower() for s in stack_cell.split("/") if s.strip().strip("`").strip()}
    if len(stacks) > 1:
        base = "cross-stack"
    elif stacks:
        base = next(iter(stacks))
    elif _column(table, "required") is not None or _column(table, "artifact") is not None:
        heading = table.heading.lower()
        base = next((stack for words, stack in HEADING_STACKS if heading.startswith(words)), _slug(table.heading))
        stacks = {base} if base in STACK_WORDS else set()
    else:
        base = _slug(re.sub(r"\bcomponents?\b", "", table.heading, flags=re.I))
    optional = required_cell.strip().lower().startswith("optional")
    return (f"{base}-optional" if optional else base), stacks - {"independent"}


def _slug(text: str) -> str:
    text = re.sub(r"\([^)]*\)", "", text).lower()
    return "-".join(re.findall(r"[a-z0-9]+", text)) or "imported"


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    order = ("type", "source", "repo", "chart", "version", "group", "name", "needs_version", "note")
    return {key: entry[key] for key in order if key in entry}


def _separate_charts_from_images(entries: list[dict[str, Any]]) -> None:
    """A chart that would land on the same target as an image of the page takes ``<name>-chart``."""
    images = {(e.get("name") or _default_name(e), _tag(e)) for e in entries if e["type"] == "image"}
    for entry in entries:
        if entry["type"] == "chart" and "repo" in entry and (entry["chart"], _tag(entry)) in images:
            entry["name"] = f"{entry['chart']}-chart"
            entry["note"] = (
                f"the image {entry['chart']}:{entry['version']} already lands at {{prefix}}/{entry['chart']}:"
                f"{entry['version']}, so the chart takes another repository name"
            )
            entry.update(_ordered(entry))


def _default_name(entry: dict[str, Any]) -> str:
    return str(entry.get("chart") or entry["source"].split("@")[0].rsplit("/", 1)[-1].split(":")[0])


def _tag(entry: dict[str, Any]) -> str | None:
    if "repo" in entry:
        return entry.get("version")
    last = entry["source"].split("@")[0].rsplit("/", 1)[-1]
    return last.partition(":")[2] or None


def _group_order(groups: dict[str, set[str]]) -> list[str]:
    """Each stack's Required group, then its Optional one, stacks as the page first names them; resources last."""
    bases = list(dict.fromkeys(name.removesuffix("-optional") for name in groups if name != RESOURCES_GROUP))
    ordered = [name for base in bases for name in (base, f"{base}-optional") if name in groups]
    return ordered + ([RESOURCES_GROUP] if RESOURCES_GROUP in groups else [])


def _group(name: str, stacks: set[str]) -> dict[str, Any]:
    optional = name.endswith("-optional")
    base = name.removesuffix("-optional")
    if name == RESOURCES_GROUP:
        description = "NGC resources: the Helmfile bundles of the stacks and the NVCF CLI"
    elif base == "independent":
        description = f"{'Optional' if optional else 'Required'} artifacts installed separately from the stacks"
    elif base == "cross-stack":
        used = ", ".join(STACK_WORDS.get(s, s) for s in sorted(stacks)) or "several stacks"
        description = f"{'Optional' if optional else 'Required'} artifacts shared by the stacks ({used})"
    elif base in STACK_WORDS:
        description = f"{'Optional' if optional else 'Required'} artifacts of the {STACK_WORDS[base]}"
    else:
        description = f"{'Optional' if optional else 'Required'} artifacts of the page's {base} table"
    return {"name": name, "default": not optional and name != RESOURCES_GROUP, "description": description}


def _description(entries: list[dict[str, Any]]) -> str:
    bundles = []
    for entry in entries:
        match = (
            re.fullmatch(r".*/nvcf-(?P<stack>[\w-]+)-stack:(?P<version>.+)", entry.get("source", ""))
            if entry["type"] == "resource"
            else None
        )
        if match:
            bundles.append(f"{match['stack']} {match['version']}")
    return "NVIDIA Cloud Functions self-hosted" + (f": {', '.join(bundles)}" if bundles else "")
