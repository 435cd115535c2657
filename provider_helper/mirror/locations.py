"""Where a registry already holds a blob, remembered across runs, so a copy into a new prefix (a
second cluster, a run whose state was lost) mounts the blob instead of downloading and uploading it.

A hint only: a remembered repository is offered to the registry as the mount's ``from``, and the
registry's answer decides (201 mounted; anything else falls back to an upload). Kept in SQLite
under the user's cache directory, which is safe for concurrent runs.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

from provider_helper.cachedir import cache_dir, private_cache, private_cache_file
from provider_helper.errors import InputError

log = logging.getLogger(__name__)

REMEMBERED_PER_BLOB = 3  # the most recent repositories offered as a mount source
FORGET_AFTER_S = 90 * 24 * 3600


class BlobLocations:
    """The repositories of one registry known to hold each blob."""

    def __init__(self, registry: str, path: Path | None = None) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        file = path or cache_dir() / "blob-locations.sqlite"
        try:
            if path is None:
                private_cache()
            else:
                file.parent.mkdir(parents=True, exist_ok=True)
            private_cache_file(file)  # sqlite gives its -wal and -shm files the database's mode
            db = sqlite3.connect(file, timeout=10, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS held"
                " (registry TEXT, digest TEXT, repo TEXT, seen REAL, PRIMARY KEY (registry, digest, repo))"
            )
            db.execute("DELETE FROM held WHERE seen < ?", (time.time() - FORGET_AFTER_S,))
            self._db = db
        except (OSError, sqlite3.Error, InputError) as exc:  # a cache that cannot be used is not an error
            log.debug("blob locations not remembered (%s): %s", file, exc)

    def holders(self, digest: str) -> list[str]:
        """Repositories that held ``digest`` when last seen, most recent first."""
        if self._db is None:
            return []
        with self._lock, contextlib.suppress(sqlite3.Error):
            rows = self._db.execute(
                "SELECT repo FROM held WHERE registry = ? AND digest = ? ORDER BY seen DESC LIMIT ?",
                (self.registry, digest, REMEMBERED_PER_BLOB),
            ).fetchall()
            return [repo for (repo,) in rows]
        return []

    def remember(self, digest: str, repo: str) -> None:
        if self._db is None:
            return
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute(
                "INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?)", (self.registry, digest, repo, time.time())
            )

    def forget(self, digest: str, repo: str) -> None:
        """A mount from ``repo`` was refused: it no longer holds the blob (or never could lend it)."""
        if self._db is None:
            return
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute(
                "DELETE FROM held WHERE registry = ? AND digest = ? AND repo = ?", (self.registry, digest, repo)
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
