"""Reading and unpacking tarballs from the outside world without trusting them.

Extraction does not rest on ``tarfile``'s filters (whose safety depends on the Python patch
level): every member is checked before anything is written, and written by this module.

- Every member passes ``archive_members``' checks (paths, links, devices, limits) before it is
  written, and the limits are checked again while writing.
- Files are created with ``O_EXCL | O_NOFOLLOW`` under folders this module made, so nothing
  already on disk is followed or overwritten.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO

from provider_helper.archive_members import (
    DEFAULT_LIMITS,
    ArchiveError,
    ExtractLimits,
    check_link_targets,
    checked_members,
    member_path,
)
from provider_helper.fsutil import open_regular_file
from provider_helper.splitarchive import PartsReader

_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ")  # gzip, bzip2, xz


def read_member(fileobj: IO[bytes], origin: str, wanted: str, max_bytes: int) -> bytes | None:
    """One file's bytes out of a .tar.gz, checking every entry on the way."""
    found = None
    with _open(fileobj=fileobj, mode="r:gz", origin=origin) as tar:
        for member in checked_members(tar, origin):
            if member.name.lstrip("./") == wanted and member.isfile():
                if member.size > max_bytes:
                    raise ArchiveError(f"{origin}: {wanted} is larger than {max_bytes} bytes")
                extracted = tar.extractfile(member)
                found = extracted.read() if extracted else None
    return found


def safe_extract(
    archive: Path, dest: Path, limits: ExtractLimits = DEFAULT_LIMITS, *, parts: list[Path] | None = None
) -> list[Path]:
    """Unpack ``archive`` under ``dest``; nothing is written unless every entry passes the checks.
    ``parts``: a split archive's verified parts, read one after the other as one uncompressed tar."""
    origin = archive.name
    if parts is None:
        compressed = archive.stat().st_size if _is_compressed(archive) else None

        def open_tar() -> tarfile.TarFile:
            return _open(name=archive, mode="r:*", origin=origin)
    else:
        compressed = None

        def open_tar() -> tarfile.TarFile:
            return _open(fileobj=PartsReader(parts), mode="r|", origin=origin)

    with open_tar() as tar:
        members = list(checked_members(tar, origin, limits, compressed))
        check_link_targets(members, origin)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[Path] = []
    with open_tar() as tar:
        by_name = {m.name: m for m in members}
        for member in tar:
            if member.name in by_name:
                written += _write_member(tar, member, root, origin)
    return written


def top_folder(archive: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> str | None:
    """The one folder every entry of ``archive`` lies in (``nvcf-base/…``), links pointing inside it too;
    None when there is none."""
    origin = archive.name
    compressed = archive.stat().st_size if _is_compressed(archive) else None
    tops: set[str] = set()
    with _open(name=archive, mode="r:*", origin=origin) as tar:
        for member in checked_members(tar, origin, limits, compressed):
            path = member_path(member, origin)
            if not path.parts or (len(path.parts) == 1 and not member.isdir()):
                return None  # an entry at the top: no single folder
            tops.add(path.parts[0])
            if member.issym() or member.islnk():
                target = PurePosixPath(member.linkname)
                resolved = PurePosixPath(os.path.normpath(target if member.islnk() else path.parent / target))
                if resolved.parts[:1] != path.parts[:1]:
                    return None  # a link out of the folder: it is unpacked as any archive, where that is refused
    return tops.pop() if len(tops) == 1 else None


def extract_once(
    archive: Path, dest: Path, limits: ExtractLimits = DEFAULT_LIMITS, *, parts: PartsReader | None = None
) -> None:
    """Unpack ``archive`` (or the parts of a split one, read one after the other) into ``dest``, a new
    private folder the caller removes if this raises. One read: every entry is checked as it arrives and
    written from that same read, so a medium that answers differently on a second read has nothing to
    swap; links are made last, once every entry has passed (``check_link_targets`` needs them all).
    ``parts``: a split archive's parts, each hashed against its checksum as it is read (and read to its end)."""
    origin = archive.name
    source: IO[bytes] = open_regular_file(archive) if parts is None else parts  # type: ignore[assignment]
    members: list[tarfile.TarInfo] = []
    with source:  # entered at once: closed on every way out, an I/O error on the first read included
        compressed = None
        if parts is None:
            magic = source.read(6)
            source.seek(0)
            compressed = os.fstat(source.fileno()).st_size if magic.startswith(_COMPRESSED) else None
        root = dest.resolve()
        with _open(fileobj=source, mode="r|*", origin=origin) as tar:
            for member in checked_members(tar, origin, limits, compressed):
                members.append(member)
                if not (member.issym() or member.islnk()):
                    _write_member(tar, member, root, origin)
            while source.read(1 << 20):  # the tar's end padding: a split archive's last part is hashed to its end
                pass
    check_link_targets(members, origin)
    for member in members:
        if member.issym() or member.islnk():
            _write_member(tar, member, root, origin)


def _is_compressed(archive: Path) -> bool:
    with open(archive, "rb") as handle:
        magic = handle.read(6)
    return magic.startswith(_COMPRESSED)


def _open(*, origin: str, **kwargs: object) -> tarfile.TarFile:
    try:
        return tarfile.open(**kwargs)  # type: ignore[call-overload, no-any-return]
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"{origin}: not a readable tar archive ({exc})") from None


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root: Path, origin: str) -> list[Path]:
    """Create one checked member under ``root``, following no link that is already on disk."""
    relative = member_path(member, origin)
    if not relative.parts:
        return []
    target = root.joinpath(*relative.parts)
    _make_dirs(root, relative.parent, origin)
    if member.isdir():
        _make_dirs(root, relative, origin)
        return []
    if target.is_dir() and not target.is_symlink():
        raise ArchiveError(f"{origin}: entry {member.name!r} would replace a folder")
    if member.issym():
        temp = target.with_name(f".{target.name}.{os.getpid()}.link")
        os.symlink(member.linkname, temp)
        os.replace(temp, target)
        return []
    if member.islnk():
        source = root.joinpath(*member_path(tarfile.TarInfo(member.linkname), origin).parts)
        if source.is_symlink() or not source.is_file():
            raise ArchiveError(
                f"{origin}: hard link {member.name!r} -> {member.linkname!r} does not name a file of the archive"
            )
        with open(source, "rb") as copied:
            _write_file(target, copied, source.stat().st_size, 0o644, origin)
        return [target]
    data = tar.extractfile(member)
    if data is None:
        return []
    with data:
        _write_file(target, data, member.size, 0o755 if member.mode & 0o111 else 0o644, origin)
    return [target]


def _write_file(target: Path, data: IO[bytes], size: int, mode: int, origin: str) -> None:
    """Write into a new file beside ``target``, then rename it over whatever ``target`` was (a rename
    replaces a link itself, never what it points at)."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            remaining = size
            while remaining > 0:
                chunk = data.read(min(remaining, 1024 * 1024))
                if not chunk:
                    raise ArchiveError(f"{origin}: entry {target.name!r} is truncated")
                out.write(chunk)
                remaining -= len(chunk)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _make_dirs(root: Path, relative: PurePosixPath, origin: str) -> None:
    """Create each folder of ``relative`` under ``root``; an existing component must be a real folder."""
    current = root
    for part in relative.parts:
        current = current / part
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise ArchiveError(f"{origin}: {current.relative_to(root)} is not a folder of the archive") from None
