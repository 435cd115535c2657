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
This module reads the page's tables; what each row becomes is ``importers_nvcf_rows``'.
"""

from __future__ import annotations

import re
from typing import Any

from provider_helper.errors import InputError
from provider_helper.importers_nvcf_rows import RESOURCES_GROUP, STACK_WORDS, Table, column, ordered, row


def looks_like_page(text: str) -> bool:
    """A markdown table with an artifact (or component) column and a distribution (or full path) column."""
    return any(
        t.columns
        and column(t, "artifact", "component name") is not None
        and column(t, "distribution", "full path") is not None
        for t in _tables(text)
    )


def from_page(text: str, origin: str) -> dict[str, Any]:
    """The manifest of an NVIDIA artifact-manifest page (every table it holds)."""
    entries: list[dict[str, Any]] = []
    groups: dict[str, set[str]] = {}  # group -> the stacks its rows name
    for table in _tables(text):
        name_at, where_at = column(table, "artifact", "component name"), column(table, "distribution", "full path")
        if name_at is None or where_at is None:
            continue  # stack releases, descriptions, value tables
        for line, cells in table.rows:
            try:
                entry, stacks = row(table, cells, name_at, where_at)
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


def _tables(text: str) -> list[Table]:
    tables: list[Table] = []
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
            current = Table(heading, [c.lower() for c in cells])
            tables.append(current)
        elif all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue  # the separator row
        else:
            current.rows.append((number, cells))
    return tables


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [c.strip() for c in inner.split("|")]


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
            entry.update(ordered(entry))


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
