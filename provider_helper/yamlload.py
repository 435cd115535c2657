"""YAML reading with libyaml's C parser where PyYAML was built with it, and bounded aliases.

Manifests and Helm repository indexes (NGC's run to megabytes) parse several times faster
with libyaml; the pure-Python loader behaves the same and is the fallback.

Anchors and aliases are allowed, but what they expand to is bounded: a few hundred bytes of
nested aliases ("billion laughs") otherwise become gigabytes as soon as anything walks the
data. The node tree shares one node per anchor, so its expanded size is counted without
expanding it.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Nodes that aliases may add on top of the document's own: generous for hand-written anchors,
# far below what an alias bomb needs to hurt.
MAX_ALIAS_EXPANSION = 100_000


class AliasBombError(yaml.YAMLError):
    """Aliases expand the document far beyond its own size."""

    def __init__(self, expanded: int) -> None:
        super().__init__(
            f"aliases expand the document to more than {expanded} nodes (limit {MAX_ALIAS_EXPANSION} beyond its own)"
        )
        self.problem = str(self)


class RecursiveAliasError(yaml.YAMLError):
    """An alias refers to a node that contains it."""

    def __init__(self) -> None:
        super().__init__("an alias refers to a node that contains it (a recursive document)")
        self.problem = str(self)


def safe_load(text: str | bytes) -> Any:
    return load_with_nodes(text)[1]


def load_with_nodes(text: str | bytes) -> tuple[yaml.Node | None, Any]:
    """The node tree (it knows each value's line, for error messages) and the data, from one parse."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        check_expansion(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def check_expansion(root: yaml.Node) -> None:
    """Raise AliasBombError when the tree, with every alias expanded, outgrows its distinct nodes
    by more than MAX_ALIAS_EXPANSION."""
    expanded: dict[int, int] = {}  # id(node) -> nodes under it, aliases expanded
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in expanded:
            continue
        children = _children(node)
        if children_done or not children:
            open_nodes.discard(id(node))
            distinct += 1
            expanded[id(node)] = 1 + sum(expanded[id(c)] for c in children)
            if expanded[id(node)] - distinct > MAX_ALIAS_EXPANSION:
                raise AliasBombError(expanded[id(node)])
            continue
        if id(node) in open_nodes:
            raise RecursiveAliasError()
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in expanded)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
