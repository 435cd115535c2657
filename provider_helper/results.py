"""The result document (DESIGN.md contract) and its human summary."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from provider_helper.redact import shown


@dataclass
class ArtifactResult:
    key: str
    type: str
    group: str
    source: str
    target: str
    digest: str | None = None
    platforms: list[str] = field(default_factory=list)
    status: str = "planned"
    bytes_copied: int = 0
    error: str | None = None
    note: str | None = None  # extension: e.g. "new index built for a platform subset"
    resolved_from: str | None = None  # extension: "latest" when --set-version NAME=latest chose the version
    signatures_copied: int = 0  # extension: signatures, attestations, SBOMs and referrers pushed with it
    attached: list[dict[str, str]] = field(default_factory=list, repr=False)  # what travels with it (a layout's lock lists it)


def document(target: str, results: list[ArtifactResult], seconds: float, helm_values: str | None = None) -> dict[str, Any]:
    """The result document; ``helm_values`` (an extension) is the Helmfile snippet for this target."""
    summary = {status: sum(r.status == status for r in results) for status in ("copied", "present", "failed")}
    doc: dict[str, Any] = {
        "version": 1,
        "target": target,
        "artifacts": [_artifact(r) for r in results],
        "summary": {**summary, "bytes_copied": sum(r.bytes_copied for r in results), "seconds": round(seconds, 3),
                    "signatures_copied": sum(r.signatures_copied for r in results)},
    }
    if helm_values is not None:
        doc["helm_values"] = helm_values
    return doc


def _artifact(result: ArtifactResult) -> dict[str, Any]:
    data = asdict(result)
    del data["attached"]
    for optional in ("note", "resolved_from"):
        if data[optional] is None:
            del data[optional]
    for text in ("source", "target", "error", "note"):
        if data.get(text):
            data[text] = shown(data[text])
    return data


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def print_table(results: list[ArtifactResult], columns: tuple[str, ...] = ("type", "target", "status", "digest")) -> None:
    """A table of results on standard output; ``digest`` shows the error instead where there is no digest."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in results:
        cells = {
            "group": r.group, "type": r.type, "target": r.target, "status": r.status,
            "platforms": ",".join(r.platforms), "digest": r.digest or shown(r.error or ""), "source": shown(r.source),
        }
        table.add_row(*(cells[c] for c in columns))
    console.print(table)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
