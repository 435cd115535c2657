"""provider_helper/yamlload.py: anchors and aliases allowed, what they expand to bounded."""

from __future__ import annotations

import pytest
import yaml
from readme_text import limit

from provider_helper import yamlload
from provider_helper.yamlload import AliasBombError, RecursiveAliasError

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


def test_the_limit_is_the_readmes_and_a_recursive_alias_is_refused() -> None:
    """README Limits: "nodes YAML aliases may add to a manifest or index | 100,000"; an alias inside the node it names
    would expand without end."""
    assert int(limit("nodes YAML aliases may add").replace(",", "")) == LIMIT == yamlload.MAX_ALIAS_EXPANSION
    with pytest.raises(RecursiveAliasError, match="an alias refers to a node that contains it"):
        yamlload.safe_load("a: &a [1, *a]\n")


def test_libyamls_parser_where_pyyaml_has_it_and_the_nodes_know_their_lines() -> None:
    """README modules: "YAML parsing with libyaml's C loader where PyYAML has it"; the node tree gives error lines."""
    assert yamlload.SafeLoader is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    node, data = yamlload.load_with_nodes("a: 1\nb:\n  - x\n")
    assert data == {"a": 1, "b": ["x"]}
    assert isinstance(node, yaml.MappingNode) and node.value[1][1].start_mark.line == 2
    assert yamlload.load_with_nodes("") == (None, None)
