"""A tar written as numbered parts (``bundle.tar.000``, ``.001``, …) with a checksum list
(``bundle.tar.sha256``), for transfer paths that cannot carry one large file (FAT32 media at 4 GiB,
size-limited diodes and upload portals); read back across the parts after every part is verified,
without joining them on disk.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from provider_helper.errors import InputError
from provider_helper.fsutil import atomic_write, open_regular, open_regular_file, private_temp, read_bounded
from provider_helper.wording import setting

CHUNK = 1024 * 1024
_SIZE_RE = re.compile(r"([0-9]+)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?", re.ASCII | re.IGNORECASE)
_UNITS = {
    "b": 1,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
}
MIN_PART = 1 << 20
MAX_CHECKSUM_LIST_BYTES = 1024 * 1024  # 12,000 lines of "<sha256>  bundle.tar.NNN": 46 TiB in 4 GiB parts


def parse_size(text: str) -> int:
    """``4GiB``, ``500MB``, ``1048576``: bytes."""
    match = _SIZE_RE.fullmatch(text.strip())
    size = int(match[1]) * _UNITS[(match[2] or "b").lower()] if match else 0
    if size < MIN_PART:
        raise InputError(
            f"{setting('archive_size')} {text!r}: expected a size of at least 1 MiB, such as 4GiB or 500MB"
        )
    return size


def part_path(archive: Path, n: int) -> Path:
    return archive.with_name(f"{archive.name}.{n:03d}")


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


class PartsWriter(io.RawIOBase):
    """A writable stream that fills new private files beside ``archive.000``, ``.001``, … (random names,
    ``fsutil.private_temp``) of at most ``part_size`` bytes each."""

    def __init__(self, archive: Path, part_size: int) -> None:
        self.archive, self.part_size = archive, part_size
        self.parts: list[tuple[Path, str]] = []  # (temporary path, sha256) of each finished part
        self._handle: IO[bytes] | None = None
        self._path = archive
        self._hash = hashlib.sha256()
        self._in_part = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data)
        while view:
            if self._handle is None or self._in_part == self.part_size:
                self._next_part()
            assert self._handle is not None
            take = view[: self.part_size - self._in_part]
            self._handle.write(take)
            self._hash.update(take)
            self._in_part += len(take)
            view = view[len(take) :]
        return len(data)

    def _next_part(self) -> None:
        self._finish_part()
        self._path, self._handle = private_temp(part_path(self.archive, len(self.parts)))  # closed by _finish_part
        self._hash, self._in_part = hashlib.sha256(), 0

    def _finish_part(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.parts.append((self._path, self._hash.hexdigest()))
            self._handle = None

    def commit(self) -> None:
        """Rename the parts into place, then write the checksum list: a bundle is complete once it exists."""
        self._finish_part()
        for n, (temporary, _) in enumerate(self.parts):
            os.replace(temporary, part_path(self.archive, n))
        listing = "".join(f"{digest}  {part_path(self.archive, n).name}\n" for n, (_, digest) in enumerate(self.parts))
        atomic_write(checksum_path(self.archive), listing)


def split_archive(path: Path) -> Path | None:
    """The archive's name when ``path`` names a split one (``bundle.tar`` with parts, or its ``.000``)."""
    if path.suffix == ".000" and path.with_suffix("").suffix == ".tar":
        return path.with_suffix("")
    if path.suffix == ".tar" and not path.exists() and (checksum_path(path).exists() or part_path(path, 0).exists()):
        return path
    return None


def verified_parts(archive: Path) -> list[Path]:
    """Every part the checksum list names, each hashed and compared before anything reads it."""
    parts = listed_parts(archive)
    for n, (part, digest) in enumerate(parts):
        if _sha256(part) != digest:
            raise _corrupt(part, n, archive)
    return [part for part, _ in parts]


def _corrupt(part: Path, n: int, archive: Path) -> InputError:
    return InputError(f"{part}: corrupt: part {n + 1} of the split bundle {archive.name} does not match its checksum")


def listed_parts(archive: Path) -> list[tuple[Path, str]]:
    """Every part the checksum list names with its sha256, unread (``PartsReader`` checks them as it reads)."""
    listing = checksum_path(archive)
    try:
        text = read_bounded(listing, MAX_CHECKSUM_LIST_BYTES, "the checksum list of a split bundle is").decode(
            "ascii", "replace"
        )
    except FileNotFoundError:
        raise InputError(
            f"{listing}: missing: the checksum list of the split bundle {archive.name} (save writes it last)"
        ) from None
    parts = []
    for n, line in enumerate(text.splitlines()):
        digest, _, name = line.partition("  ")
        expected = part_path(archive, n)
        if name != expected.name or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise InputError(f"{listing}: line {n + 1} is not '<sha256>  {expected.name}'")
        if not expected.is_file():
            raise InputError(f"{expected}: missing: part {n + 1} of the split bundle {archive.name}")
        parts.append((expected, digest))
    if not parts:
        raise InputError(f"{listing}: names no part")
    return parts


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open_regular(path) as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


class PartsReader(io.RawIOBase):
    """The parts read one after the other as one stream; with ``digests``, each part is hashed as it is
    read and InputError raised at its end if it does not match (one read, no second one to differ)."""

    def __init__(self, parts: list[Path], digests: list[str] | None = None, archive: Path | None = None) -> None:
        self._parts: Iterator[Path] = iter(parts)
        self._digests = digests
        self._archive = archive or (parts[0].with_suffix("") if parts else Path("archive"))
        self._n = -1
        self._current: Path | None = None
        self._hash = hashlib.sha256()
        self._handle: IO[bytes] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            if self._handle is None:
                following = next(self._parts, None)
                if following is None:
                    return 0
                self._handle = open_regular_file(following)  # closed when read to its end, or by close()
                self._n, self._current, self._hash = self._n + 1, following, hashlib.sha256()
            n = self._handle.readinto(buffer)  # type: ignore[attr-defined]
            if n:
                self._hash.update(buffer[:n])
                return int(n)
            self._handle.close()
            self._handle = None
            if (
                self._digests is not None
                and self._current is not None
                and self._hash.hexdigest() != self._digests[self._n]
            ):
                raise _corrupt(self._current, self._n, self._archive)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        super().close()
