"""The user's cache directory for nvcf-mirror: ``$NVCF_MIRROR_CACHE_DIR``, else
``$XDG_CACHE_HOME/nvcf-mirror``, else ``~/.cache/nvcf-mirror``.

Everything kept there is a hint that saves work (a manifest already checked against the schema,
where a registry already holds a blob); nothing read from it is trusted without a check, and a
cache that cannot be written is not an error.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    explicit = os.environ.get("NVCF_MIRROR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nvcf-mirror"
