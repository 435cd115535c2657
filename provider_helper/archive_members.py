"""The checks every member of a tarball from the outside world passes before anything of it is
written (``archives`` writes it): what one archive may unpack to (``ExtractLimits``), and the members
refused.

- Refused: absolute paths, ``..`` components, devices, FIFOs, sparse files, duplicate entries,
  links pointing outside the root, and any member whose path passes through a symbolic link
  of the archive (``a -> .`` then ``a/b -> ../x``), since that is how a link chain escapes.
- Limits, checked on the archive's headers: total bytes, member count, and the expansion ratio of a
  compressed archive.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from provider_helper.wording import setting

GiB = 1024**3
MAX_DEPTH = 64  # folders one entry's path may nest: a layout needs 3, a resource tarball a dozen


@dataclass(frozen=True)
class ExtractLimits:
    """What one archive may unpack to; raise with --max-extract-bytes / --max-extract-members / --max-extract-ratio."""

    max_bytes: int = 64 * GiB
    max_members: int = 20_000
    max_ratio: float = 200.0  # unpacked bytes per byte of archive; gzip tops out near 1000


DEFAULT_LIMITS = ExtractLimits()


class ArchiveError(ValueError):
    """The archive is malformed, too large, or tries to reach outside where it is unpacked."""


def checked_members(
    tar: tarfile.TarFile, origin: str, limits: ExtractLimits = DEFAULT_LIMITS, compressed_size: int | None = None
) -> Iterator[tarfile.TarInfo]:
    """Yield members after refusing any that could escape, that is not a file, folder or inside
    link, or that takes the archive past its limits (the ratio when ``compressed_size`` is given)."""
    max_bytes = limits.max_bytes
    if compressed_size is not None:
        max_bytes = min(max_bytes, int(max(compressed_size, 1) * limits.max_ratio))
    links: set[PurePosixPath] = set()
    seen: set[PurePosixPath] = set()
    sizes: dict[PurePosixPath, int] = {}  # a hard link unpacks to a copy: it counts its target's size
    implied: set[PurePosixPath] = set()  # folders entries need that the archive does not list: they are made too
    total = 0
    try:
        for count, member in enumerate(tar, 1):
            path = member_path(member, origin)
            if len(path.parts) > MAX_DEPTH:
                raise ArchiveError(f"{origin}: entry {member.name[:200]!r} nests more than {MAX_DEPTH} folders deep")
            implied.update(parent for parent in path.parents if parent.parts and parent not in seen)
            implied.discard(path)
            if count + len(implied) > limits.max_members:
                raise ArchiveError(
                    f"{origin}: more than {limits.max_members} entries, counting the folders they imply "
                    f"(raise with {setting('max_extract_members')})"
                )
            if member.isdev() or member.isfifo() or member.type == tarfile.GNUTYPE_SPARSE:
                raise ArchiveError(f"{origin}: entry {member.name!r} is a device, FIFO or sparse file")
            if any(parent in links for parent in path.parents):
                raise ArchiveError(f"{origin}: entry {member.name!r} lies under a symbolic link of the archive")
            if path in seen and not member.isdir():
                raise ArchiveError(f"{origin}: entry {member.name!r} appears twice")
            seen.add(path)
            resolved = path
            if member.issym() or member.islnk():
                target = PurePosixPath(member.linkname)
                resolved = PurePosixPath(os.path.normpath(target if member.islnk() else path.parent / target))
                if target.is_absolute() or _escapes(resolved):
                    raise ArchiveError(
                        f"{origin}: link {member.name!r} -> {member.linkname!r} points outside the archive"
                    )
                if member.islnk() and any(p in links for p in (resolved, *resolved.parents)):
                    raise ArchiveError(
                        f"{origin}: hard link {member.name!r} passes through a symbolic link of the archive"
                    )
                if member.issym():
                    links.add(path)
            if member.isfile():
                sizes[path] = member.size
            total += sizes.get(resolved, 0) if member.islnk() else sizes.get(path, 0) if member.isfile() else 0
            if total > max_bytes:
                flag = setting("max_extract_bytes" if max_bytes == limits.max_bytes else "max_extract_ratio")
                raise ArchiveError(f"{origin}: unpacks to more than {max_bytes} bytes (raise with {flag})")
            yield member
    except tarfile.TarError as exc:
        raise ArchiveError(f"{origin}: not a readable tar archive ({exc})") from None


def member_path(member: tarfile.TarInfo, origin: str) -> PurePosixPath:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or "\\" in member.name or "\x00" in member.name:
        raise ArchiveError(f"{origin}: entry {member.name!r} points outside the archive")
    normal = PurePosixPath(*[p for p in path.parts if p not in ("", ".")]) if path.parts else path
    return normal


def check_link_targets(members: list[tarfile.TarInfo], origin: str) -> None:
    """Refuse a link whose target passes through a symbolic link of the archive: resolved on disk,
    ``s -> .`` then ``t -> s/x/../..`` leaves the folder although ``s/x/../..`` looks like ``.``."""
    links = {member_path(m, origin) for m in members if m.issym()}
    for member in members:
        if not (member.issym() or member.islnk()):
            continue
        path = member_path(member, origin)
        parts = (
            list(PurePosixPath(member.linkname).parts)
            if member.islnk()
            else [*path.parent.parts, *PurePosixPath(member.linkname).parts]
        )
        walked: list[str] = []
        for part in parts:
            if walked and PurePosixPath(*walked) in links:
                raise ArchiveError(f"{origin}: link {member.name!r} -> {member.linkname!r} passes through another link")
            if part == "..":
                if not walked:
                    raise ArchiveError(
                        f"{origin}: link {member.name!r} -> {member.linkname!r} points outside the archive"
                    )
                walked.pop()
            elif part not in ("", "."):
                walked.append(part)


def _escapes(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return True
    return False
