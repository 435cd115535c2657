"""Reduce an NVIDIA artifact-manifest page to the facts tests/data/nvidia-manifest/ keeps: the artifact tables'
headings and their Type, Artifact / Component Name, Version, Stack, Required and Distribution / Full Path
columns (each cell its first code span), no prose, no descriptions.

    python scripts/nvidia-manifest-facts.py PAGE.md "NVIDIA/nvcf docs/v0.6.1/manifest.md" > tests/data/nvidia-manifest/v0.6.1.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KEEP = ("type", "artifact", "component name", "version", "stack", "required", "distribution", "full path")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().removeprefix("|").removesuffix("|").split("|")]


def fact(cell: str) -> str:
    found = re.search(r"`[^`]*`", cell)
    return found.group(0) if found else cell


def main(page: str, source: str) -> None:
    out = [f"<!-- Facts from {source}: the artifact tables, without descriptions, source links or prose. -->", ""]
    heading, columns, keep = "", None, []
    for line in Path(page).read_text().splitlines():
        if line.startswith("#"):
            heading, columns = line, None
            continue
        if not line.startswith("|"):
            columns = None
            continue
        row = cells(line)
        if columns is None:
            columns = [c.lower() for c in row]
            keep = [i for i, c in enumerate(columns) if c in KEEP]
            if not ({"artifact", "component name"} & set(columns) and {"distribution", "full path"} & set(columns)):
                keep = []
                continue
            out += [
                heading,
                "",
                "| " + " | ".join(row[i] for i in keep) + " |",
                "| " + " | ".join("---" for _ in keep) + " |",
            ]
            continue
        if keep and not all(re.fullmatch(r":?-+:?", c) for c in row if c):
            out.append("| " + " | ".join(fact(row[i]) for i in keep) + " |")
    text = "\n".join(out)
    print(re.sub(r"(\|\n)(#)", r"\1\n\2", text))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
