"""The README's words and its limits table, for tests that hold the code to the figure the README states."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = " ".join((REPO / "README.md").read_text().split())
BINARY = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def limit(row: str) -> str:
    """The limit column of the README's limits table for the row whose first cell starts with ``row``."""
    found = re.findall(rf"\| {re.escape(row)}[^|]* \| ([^|]+) \|", README)
    assert len(found) == 1, f"the limits table has {len(found)} rows starting {row!r}"
    return str(found[0]).strip()


def size(text: str) -> int:
    """``"16 MiB"`` -> 16777216 (binary units, as the README writes them)."""
    found = re.fullmatch(r"([\d,]+) (KiB|MiB|GiB)", text.strip())
    assert found is not None, f"not a size: {text!r}"
    return int(found[1].replace(",", "")) * BINARY[found[2]]


def said(pattern: str) -> re.Match[str]:
    """The README's sentence matching ``pattern`` (whitespace folded); fails when the README no longer says it."""
    found = re.search(pattern, README)
    assert found is not None, f"the README no longer says {pattern!r}"
    return found
