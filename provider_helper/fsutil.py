"""The one place files are created and local files are read from places other users may write to.

A bundle is written to and read from shared places (``/tmp``, a transfer share, NFS, removable media),
so nothing here trusts a name that already exists:

- ``create_private``: a new file this run made (``O_CREAT | O_EXCL | O_NOFOLLOW``), mode 0600: a planted
  file or link of the same name is refused, never followed or truncated.
- ``atomic_write``: written whole into such a file beside the destination (a random name in the
  destination's folder), then renamed into place.
- ``private_dir`` / ``is_private_dir``: a folder of this user, mode 0700, that no other user could have
  put anything into.
- ``read_bounded`` / ``open_regular``: a local file read only when it is a regular file (opened without
  following a link or blocking on a FIFO), within a byte bound checked before it is parsed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from provider_helper.errors import InputError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def create_private(path: Path, mode: int = PRIVATE_FILE) -> IO[bytes]:
    """A new file at ``path`` for writing, made by this call: FileExistsError if anything (a file, a
    link, a FIFO) is already there."""
    return os.fdopen(os.open(path, _CREATE, mode), "wb")


def resumable_private(path: Path) -> IO[bytes]:
    """``path`` opened for reading and writing, made private (0600) if it is not there, kept if it is: a
    part of a download the next try continues. A link planted under the name is never followed, and only
    a regular file of this user is taken (anything else: InputError)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        os.close(fd)
        raise InputError(f"{path}: not a regular file of this user: refusing to resume into it")
    return os.fdopen(fd, "r+b")


def private_temp(beside: Path, suffix: str = ".tmp") -> tuple[Path, IO[bytes]]:
    """A new private file with a random name in ``beside``'s folder (``.NAME.<random>.tmp``)."""
    fd, name = tempfile.mkstemp(prefix=f".{beside.name}.", suffix=suffix, dir=beside.parent)
    return Path(name), os.fdopen(fd, "wb")


def atomic_write(path: Path, content: str | bytes | Iterable[bytes], *, temp: Path | None = None) -> None:
    """Write ``content`` (text, bytes, or chunks of bytes) into a new private file beside ``path``, then
    rename it into place: a reader sees the old file or the new one, never half of it, and a link planted
    under any name is replaced, never followed. ``temp`` names the file written first (it must not exist)."""
    if temp is None:
        temp, out = private_temp(path)
    else:
        out = create_private(temp)
    try:
        with out:
            if isinstance(content, str):
                out.write(content.encode())
            elif isinstance(content, bytes):
                out.write(content)
            else:
                for chunk in content:
                    out.write(chunk)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def is_private_dir(path: Path) -> bool:
    """A real folder (not a link) owned by this user that no one else may write to or read."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def private_dir(path: Path) -> Path:
    """``path`` as a private folder of this user: made 0700 when missing (parents as usual), an existing
    one made private when it is this user's real folder; another user's folder, or a link, is refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, PRIVATE_DIR)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise InputError(f"{path}: not a folder of this user (another user's, or a link): refusing to write into it")
    if info.st_mode & 0o077:
        os.chmod(path, PRIVATE_DIR)
    return path


def make_folders(path: Path) -> None:
    """``path`` and every missing folder above it, each made 0755 (less the umask): unlike
    ``Path.mkdir(parents=True)``, whose folders above ``path`` get 0777 less the umask, nothing made here is
    group- or world-writable under a loose umask."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o755)


def own_folder(root: Path, parts: Iterable[str]) -> Path:
    """``root/part/part/…``, each part made when missing and otherwise required to be a real folder of this
    user: a link planted in a shared folder (``DEST/x_v1 -> ~/.ssh``) is refused, never written into."""
    make_folders(root)
    current = root
    for part in parts:
        current = current / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(current, 0o755)
        info = os.lstat(current)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise InputError(
                f"{current}: not a folder of this user (another user's, or a link): refusing to write into it"
            )
    return current


@contextlib.contextmanager
def open_regular(path: Path) -> Iterator[IO[bytes]]:
    """``path`` opened for reading when it is a regular file: a link is not followed (ELOOP) and a FIFO
    or device never blocks the open; either is an InputError. FileNotFoundError passes through."""
    with open_regular_file(path) as handle:
        yield handle


def open_regular_file(path: Path) -> IO[bytes]:
    """``open_regular`` for a caller that closes the file itself."""
    try:
        fd = os.open(path, _READ)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise InputError(f"{path}: not a regular file that can be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{path}: not a regular file (a FIFO, device, folder or link)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path, max_bytes: int, what: str) -> bytes:
    """A regular file's bytes, refused unread past ``max_bytes`` (checked on its size, then while reading)."""
    with open_regular(path) as handle:
        if os.fstat(handle.fileno()).st_size > max_bytes:
            raise InputError(f"{path}: {what} larger than {max_bytes} bytes; refusing to read it")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"{path}: {what} larger than {max_bytes} bytes; refusing to read it")
    return data
