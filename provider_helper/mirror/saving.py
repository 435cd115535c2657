"""The folders a ``save`` writes into, and the checks before one is trusted: one writer at a time per
layout (``writer_lock``), the resume checks of what an earlier save left there (``layout_for_saving``:
only this user's folders, every blob hashed against its name, every index entry complete), and the
staging folder a ``.tar`` is written in before it is packed (``staging_for``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provider_helper.content.layout import REF_NAME, Layout, blob_file, read_manifest
from provider_helper.errors import DigestMismatchError, InputError, RegistryError
from provider_helper.fsutil import create_private, is_private_dir, make_folders
from provider_helper.mirror.bundles import LOCK_FILE, Holdings
from provider_helper.oci.digests import check_file
from provider_helper.oci.reference import DIGEST_RE

WRITER_LOCK = ".nvcf-mirror.writer"
STAGING_MARK = ".nvcf-mirror.staging"  # written by the save that made a .tar's staging folder


def layout_for_saving(root: Path, base: Holdings | None = None) -> Layout:
    """The layout ``save`` writes, under ``writer_lock(root)``. What an earlier save left is checked before
    it is kept: every blob is hashed against its name (a file that is not a regular one, or does not match,
    is removed) and every index entry must name a valid digest whose blob is there. A layout another user
    could have written into (a folder of theirs, or one anyone may write to) is refused: what it holds
    could be planted whole."""
    _refuse_untrusted(root)  # before anything is made in it: a refused save leaves the folder as it was
    for folder in (root / "blobs", root / "blobs" / "sha256"):
        with contextlib.suppress(FileExistsError):  # one already there passed the check above
            os.mkdir(folder, 0o755)
    _drop_unverified_blobs(root)
    layout = Layout.for_writing(root, base)
    layout.keep_entries(lambda entry: _kept_entry(root, entry))
    return layout


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One ``save`` at a time per layout: a second one fails at once with a clear line. The lock file is made
    only in a folder ``layout_for_saving`` would take, so a refused save leaves nothing in it."""
    make_folders(root)  # 0755 at most, the folders above it too: nothing this save makes is others' to write
    _refuse_untrusted(root)
    try:
        fd = os.open(root / WRITER_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise InputError(f"{root / WRITER_LOCK}: cannot be opened as this save's lock file ({exc.strerror})") from None
    with os.fdopen(fd, "r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{root}: another 'nvcf-mirror save' is writing to this layout; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def staging_for(archive: Path) -> Path:
    """The folder ``save --to DIR/x.tar`` writes into before packing it: ``DIR/x.tar.partial``, made by
    this save (mode 0700, with a marker), or resumed from an earlier killed save only when it is provably
    this user's: a real folder of this user, 0700, holding the marker as a regular file of this user.
    Anything else there (another user's folder, a link, a folder anyone may write to) is refused: its
    content could have been planted."""
    staging = archive.with_name(archive.name + ".partial")
    archive.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(staging, 0o700)
    except FileExistsError:
        if not is_private_dir(staging) or not _own_regular_file(staging / STAGING_MARK):
            raise InputError(
                f"{staging}: already exists and is not a staging folder an earlier save of this user "
                "made (owned by you, mode 0700, with its marker): remove it, or save elsewhere"
            ) from None
        return staging
    with create_private(staging / STAGING_MARK) as mark:
        mark.write(f"nvcf-mirror save staging for {archive.name}, uid {os.getuid()}\n".encode())
    return staging


def _refuse_untrusted(root: Path) -> None:
    """The refusals of a layout folder that need nothing made in it: the folders that are there must be
    this user's alone, the index and the lock this user's regular files, and no folder among the blobs."""
    _check_writable_by_this_user_only(root)
    for folder in (root / "blobs", root / "blobs" / "sha256"):
        if os.path.lexists(folder):
            _check_writable_by_this_user_only(folder)
    for name in ("index.json", LOCK_FILE):
        if (root / name).exists() and not _own_regular_file(root / name):
            raise InputError(f"{root / name}: not a regular file of this user: refusing to resume a save into {root}")
    blobs = root / "blobs" / "sha256"
    with contextlib.suppress(FileNotFoundError), os.scandir(blobs) as items:
        for item in items:
            if item.is_dir(follow_symlinks=False):
                raise InputError(
                    f"{item.path}: a folder where the layout keeps blobs; not a layout written by 'nvcf-mirror save'"
                )


def _check_writable_by_this_user_only(folder: Path) -> None:
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise InputError(
            f"{folder}: a folder another user could have written into (not yours, a link, or writable by "
            "others): refusing to save into it; save to a folder of your own"
        )


def _own_regular_file(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid()


def _drop_unverified_blobs(root: Path) -> None:
    """Remove every blob an earlier save left that is not a regular file matching its name."""
    folder = root / "blobs" / "sha256"
    for item in os.scandir(folder):  # no folder among them: _refuse_untrusted saw to that
        path = Path(item.path)
        keep = (
            item.is_file(follow_symlinks=False)
            and item.stat(follow_symlinks=False).st_uid == os.getuid()
            and DIGEST_RE.fullmatch(f"sha256:{item.name}") is not None
        )
        if keep:
            try:
                check_file(path, f"sha256:{item.name}", None, f"blob {item.name} left by an earlier save")
            except (DigestMismatchError, InputError):
                keep = False
        if not keep:
            path.unlink(missing_ok=True)


def _kept_entry(root: Path, entry: dict[str, Any]) -> bool:
    """An index entry of an earlier save is kept when it names a valid digest whose blob is in the layout."""
    digest = entry.get("digest")
    ref = (entry.get("annotations") or {}).get(REF_NAME) if isinstance(entry.get("annotations"), dict) else None
    return (
        isinstance(digest, str)
        and DIGEST_RE.fullmatch(digest) is not None
        and isinstance(ref, str)
        and _complete(root, digest)
    )


def _complete(root: Path, digest: str, depth: int = 0) -> bool:
    """Whether the manifest ``digest`` and everything it needs (blobs, child manifests) are in the layout:
    an entry whose blob was dropped is saved again, not reported present."""
    try:
        manifest = read_manifest(root, digest)
    except (InputError, RegistryError, ValueError):
        return False
    return (
        all(blob_file(root, b.digest).is_file() for b in manifest.blobs)
        and depth < 2
        and all(_complete(root, c.digest, depth + 1) for c in manifest.children)
    )
