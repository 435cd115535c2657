"""The user's cache directory for nvcf-mirror: ``$NVCF_MIRROR_CACHE_DIR``, else
``$XDG_CACHE_HOME/nvcf-mirror``, else ``~/.cache/nvcf-mirror``.

The folder is 0700 and its files 0600 (``private_cache``). Everything kept there is a hint that saves
work (a manifest already checked against the schema, where a registry already holds a blob); nothing
read from it is trusted without a check, and a cache that cannot be written is not an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from provider_helper.fsutil import PRIVATE_FILE, private_dir


def cache_dir() -> Path:
    explicit = os.environ.get("NVCF_MIRROR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nvcf-mirror"


def private_cache(*parts: str) -> Path:
    """A folder of the cache, made (or made again) 0700: the cache names every target registry and the
    repository paths of every prefix, which are no other local user's business. InputError when the
    folder is another user's or a link (the caller goes on without the cache)."""
    folder = private_dir(cache_dir())
    for part in parts:
        folder = private_dir(folder / part)
    return folder


def private_cache_file(path: Path) -> Path:
    """``path`` created 0600 if missing (never through a link), and made 0600 if it is this user's."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path
