"""One row of NVIDIA's NVCF artifact-manifest page as a manifest entry: what the row is (an image, an OCI
chart, a classic chart, an NGC resource: its Type column on the v0.5 page, its distribution and heading
from v0.6.0 on), the entry it becomes, and the group its stack and Required columns put it in. The page
and its tables are ``importers_nvcf``'s.
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
class Table:
    heading: str
    columns: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def column(table: Table, *names: str) -> int | None:
    return next((i for i, c in enumerate(table.columns) if c in names), None)


def _code(cell: str) -> str:
    """The first `code` span of a cell (``nvcr.io/…:1.0` or public NGC`` → the reference), else the cell."""
    found = re.search(r"`([^`]*)`", cell)
    return (found.group(1) if found else cell).strip()


def row(table: Table, cells: list[str], name_at: int, where_at: int) -> tuple[dict[str, Any], set[str]]:
    def cell(column: int | None) -> str:
        return cells[column] if column is not None and column < len(cells) else ""

    artifact = _code(cell(name_at))
    where = _code(cell(where_at))
    listed = _code(cell(column(table, "version")))
    version = None if listed.lower() in UNPINNED else listed
    kind = _kind(table, cell(column(table, "type")), where)
    if kind == "resource":
        return ordered({**_resource(where, version), "group": RESOURCES_GROUP}), set()
    if kind == "classic":
        entry = _classic(artifact, where, version)
    else:
        entry = _image(artifact, where, version, kind)
    group, stacks = _group_of(table, cell(column(table, "stack")), cell(column(table, "required")))
    entry["group"] = group
    return ordered(entry), stacks


def _kind(table: Table, type_cell: str, where: str) -> str:
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


def _group_of(table: Table, stack_cell: str, required_cell: str) -> tuple[str, set[str]]:
    stacks = {s.strip().strip("`").strip().lower() for s in stack_cell.split("/") if s.strip().strip("`").strip()}
    if len(stacks) > 1:
        base = "cross-stack"
    elif stacks:
        base = next(iter(stacks))
    elif column(table, "required") is not None or column(table, "artifact") is not None:
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


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    order = ("type", "source", "repo", "chart", "version", "group", "name", "needs_version", "note")
    return {key: entry[key] for key in order if key in entry}
