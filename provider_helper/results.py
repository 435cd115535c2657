"""The result document (a contract: docs/CONTRACTS.md, "The result document") and its human summary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from provider_helper.redact import shown

if TYPE_CHECKING:  # an annotation only: every command's start imports this module (progress does), not the model
    from provider_helper.artifacts import ArtifactType

# What became of an artifact (the result document's ``status``): mypy checks every value set or compared.
Status = Literal["planned", "copied", "present", "failed", "skipped"]


@dataclass
class ArtifactResult:
    key: str
    type: ArtifactType
    group: str
    source: str
    target: str
    digest: str | None = None
    platforms: list[str] = field(default_factory=list)
    status: Status = "planned"
    bytes_copied: int = 0
    error: str | None = None
    note: str | None = None  # extension: e.g. "new index built for a platform subset"
    resolved_from: str | None = None  # extension: "latest" when --set-version NAME=latest chose the version
    signatures_copied: int = 0  # extension: signatures, attestations, SBOMs and referrers pushed with it
    # extension: what a dry run found the copy would send (blobs the target lacks, after mounts; manifests)
    bytes_to_copy: int = 0
    # what travels with it (a layout's lock lists it)
    attached: list[dict[str, str]] = field(default_factory=list, repr=False)


def document(
    target: str, results: list[ArtifactResult], seconds: float, helm_values: str | None = None
) -> dict[str, Any]:
    """The result document; ``helm_values`` (an extension) is the Helmfile snippet for this target."""
    counted: tuple[Status, ...] = ("copied", "present", "failed", "planned")
    summary = {status: sum(r.status == status for r in results) for status in counted}
    doc: dict[str, Any] = {
        "version": 1,
        "target": target,
        "artifacts": [_artifact(r) for r in results],
        "summary": {
            **summary,
            "bytes_copied": sum(r.bytes_copied for r in results),
            "seconds": round(seconds, 3),
            "signatures_copied": sum(r.signatures_copied for r in results),
            "bytes_to_copy": sum(r.bytes_to_copy for r in results),
        },
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


SHORT_DIGEST = len("sha256:") + 12


def plan_lines(results: list[ArtifactResult], sources: Mapping[str, str], target: str) -> list[str]:
    """One aligned line per artifact: type, group, where it lands under ``target``, platforms, a short
    digest, the source it is read from (``sources``, by key; ending in ``/`` where its last part is the
    same name:tag), and what went wrong, if anything."""
    rows = [(r.type, r.group, r.target.removeprefix(target + "/"), ",".join(r.platforms) or "all") for r in results]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(4)]
    lines = []
    for r, row in zip(results, rows, strict=True):
        cells = " ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        source = sources.get(r.key, r.source)
        same_name = "/" + row[2].rsplit("/", 1)[-1]
        source = source.removesuffix(same_name) + "/" if source.endswith(same_name) else source
        problem = f"  {r.status}: {shown(r.error)}" if r.error else ""
        lines.append(f"{cells} {(r.digest or '-')[:SHORT_DIGEST]:{SHORT_DIGEST}} from {shown(source)}{problem}")
    return lines


def human_bytes(n: int) -> str:
    """Bytes in the largest binary unit that shows them below 1024 once rounded: 1024 is "1.0 KiB" and
    1 MiB less one byte "1.0 MiB", never "1024.0 KiB"; GiB is the largest unit."""
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if (size if unit == "B" else round(size, 1)) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
