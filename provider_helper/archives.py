"""Reading and unpacking tarballs from the outside world without trusting them.

Refused: absolute paths, ``..`` components, links that point outside the archive root, device
files and FIFOs, and archives past a size or entry-count limit.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

MAX_MEMBERS = 20_000


class ArchiveError(ValueError):
    """The archive is malformed or tries to reach outside where it is unpacked."""


def checked_members(tar: tarfile.TarFile, origin: str) -> Iterator[tarfile.TarInfo]:
    """Yield members after refusing any that could escape or that is not a file, folder or inside link."""
    for count, member in enumerate(tar, 1):
        if count > MAX_MEMBERS:
            raise ArchiveError(f"{origin}: more than {MAX_MEMBERS} entries")
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise ArchiveError(f"{origin}: entry {member.name!r} points outside the archive")
        if member.isdev() or member.isfifo():
            raise ArchiveError(f"{origin}: entry {member.name!r} is a device or FIFO")
        if member.issym() or member.islnk():
            target = PurePosixPath(member.linkname)
            resolved = target if member.islnk() else path.parent / target
            if target.is_absolute() or _escapes(resolved):
                raise ArchiveError(f"{origin}: link {member.name!r} -> {member.linkname!r} points outside the archive")
        yield member


def _escapes(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return True
    return False


def read_member(fileobj: IO[bytes], origin: str, wanted: str, max_bytes: int) -> bytes | None:
    """One file's bytes out of a .tar.gz, checking every entry on the way."""
    found = None
    with tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
        for member in checked_members(tar, origin):
            if member.name.lstrip("./") == wanted and member.isfile():
                if member.size > max_bytes:
                    raise ArchiveError(f"{origin}: {wanted} is larger than {max_bytes} bytes")
                extracted = tar.extractfile(member)
                found = extracted.read() if extracted else None
    return found


def safe_extract(archive: Path, dest: Path) -> list[Path]:
    """Unpack ``archive`` under ``dest``; nothing is written unless every entry passes the checks."""
    origin = archive.name
    with tarfile.open(archive, mode="r:*") as tar:
        members = list(checked_members(tar, origin))
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:*") as tar:
        tar.extractall(dest, members=members, filter="data")
    return [dest / m.name for m in members if m.isfile()]
