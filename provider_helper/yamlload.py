"""YAML reading with libyaml's C parser where PyYAML was built with it.

Manifests and Helm repository indexes (NGC's run to megabytes) parse several times faster
that way; the pure-Python loader behaves the same and is the fallback.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=SafeLoader)


def load_with_nodes(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (it knows each value's line, for error messages) and the data, from one parse."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
