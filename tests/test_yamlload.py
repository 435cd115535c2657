"""provider_helper/yamlload.py: anchors and aliases allowed, what they expand to bounded."""

from __future__ import annotations

import pytest

from provider_helper import yamlload
from provider_helper.yamlload import AliasBombError

LIMIT = 100_000  # README Limits, stated here on its own: the module's constant is what the test checks


def _aliased(width: int, copies: int, extra: int = 0) -> str:
    """A mapping whose aliases add exactly ``copies * (width + 1) + extra`` nodes beyond the document's own:
    an anchored list of ``width`` scalars (``width + 1`` nodes) repeated ``copies`` times by alias, and
    ``extra`` aliases of an anchored scalar (one node each)."""
    items = ", ".join("x" for _ in range(width))
    return (
        f"a: &a [{items}]\n"
        f"b: [{', '.join('*a' for _ in range(copies))}]\n"
        f"c: &c y\n"
        f"d: [{', '.join('*c' for _ in range(extra))}]\n"
    )


def test_aliases_may_add_100000_nodes_and_not_one_more() -> None:
    """README Limits: "nodes YAML aliases may add to a manifest or index | 100,000"."""
    at_limit = yamlload.safe_load(_aliased(999, 100))  # 100 * 1,000 nodes
    assert len(at_limit["b"]) == 100 and len(at_limit["b"][0]) == 999
    assert yamlload.safe_load(_aliased(999, 99, extra=1_000))["d"] == ["y"] * 1_000  # 99,000 + 1,000
    with pytest.raises(AliasBombError, match=f"limit {LIMIT} beyond its own"):
        yamlload.safe_load(_aliased(999, 100, extra=1))  # 100,001
