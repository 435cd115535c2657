"""Unit tests of provider_helper/fsutil.py: the private files and folders every write goes through."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_helper.errors import InputError
from provider_helper.fsutil import (
    atomic_write,
    create_private,
    is_private_dir,
    make_folders,
    own_folder,
    private_dir,
    read_bounded,
    resumable_private,
)


@pytest.mark.parametrize("mode", [0o740, 0o704, 0o710, 0o720, 0o702])
def test_a_folder_others_may_read_or_enter_is_not_provably_this_users(tmp_path: Path, mode: int) -> None:
    """README Security: "what is provably this user's: a folder owned by you with mode 0700 and the marker
    the save wrote"; group or world read (not only write) disqualifies it."""
    folder = tmp_path / "kept"
    folder.mkdir(mode=0o700)
    assert is_private_dir(folder)
    folder.chmod(mode)
    assert not is_private_dir(folder), oct(mode)


def test_create_private_makes_a_new_file_and_never_opens_one_already_there(tmp_path: Path) -> None:
    """README Security: "Every file it writes is a new private file (a random name made with `O_EXCL`, mode
    0600) renamed into place"."""
    path = tmp_path / "new"
    with create_private(path) as out:
        out.write(b"mine")
    assert path.stat().st_mode & 0o777 == 0o600
    planted = tmp_path / "planted"
    planted.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        create_private(planted)
    assert planted.read_bytes() == b"someone else's", "not truncated"


def test_atomic_write_replaces_a_planted_link_and_leaves_a_private_file(tmp_path: Path) -> None:
    """README Security: "Every file it writes is a new private file ... renamed into place, so a link planted under
    any name is replaced, never followed"; CONTRACTS: "A result file is replaced atomically"."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    result = tmp_path / "result.json"
    result.symlink_to(victim)
    atomic_write(result, "new")
    assert victim.read_text() == "keep" and not result.is_symlink()
    assert result.read_text() == "new" and result.stat().st_mode & 0o777 == 0o600
    atomic_write(result, [b"a", b"b"])
    assert result.read_bytes() == b"ab"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json", "victim"], "no temporary file left"

    def broken() -> Iterator[bytes]:
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(result, broken())
    assert result.read_bytes() == b"ab", "the old file, never half of the new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json", "victim"]


def test_private_dir_is_made_0700_made_private_or_refused(tmp_path: Path) -> None:
    """README Security: the cache "is 0700 and its files 0600"; a folder that is not this user's real folder (a
    link) is refused."""
    made = private_dir(tmp_path / "a" / "cache")
    assert made.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert private_dir(shared).stat().st_mode & 0o777 == 0o700
    link = tmp_path / "link"
    link.symlink_to(shared)
    with pytest.raises(InputError) as refused:
        private_dir(link)
    assert str(refused.value) == (
        f"{link}: not a folder of this user (another user's, or a link): refusing to write into it"
    )


def test_own_folder_makes_each_part_and_refuses_a_planted_link(tmp_path: Path) -> None:
    """README Security: "downloads go only into folders of this user"."""
    assert own_folder(tmp_path, ["a", "b"]) == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "x_v1").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError) as refused:
        own_folder(tmp_path, ["x_v1", "file"])
    assert str(refused.value).startswith(f"{tmp_path / 'x_v1'}: not a folder of this user")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_bundle_files_are_read_only_when_regular_and_within_their_bound(tmp_path: Path) -> None:
    """README Security: "Bundle files are read only when they are regular files (no link followed, a FIFO never
    waited on), within the byte bounds"."""
    lock = tmp_path / "lock.json"
    lock.write_bytes(b"x" * 16)
    assert read_bounded(lock, 16, "a lock") == b"x" * 16
    with pytest.raises(InputError) as big:
        read_bounded(lock, 15, "a lock")
    assert str(big.value) == f"{lock}: a lock larger than 15 bytes; refusing to read it"
    link = tmp_path / "link.json"
    link.symlink_to(lock)
    with pytest.raises(InputError) as linked:
        read_bounded(link, 16, "a lock")
    assert str(linked.value).startswith(f"{link}: not a regular file that can be read")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as waited:
        read_bounded(fifo, 16, "a lock")
    assert str(waited.value) == f"{fifo}: not a regular file (a FIFO, device, folder or link)"
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 16, "a lock")


def test_a_download_resumes_into_its_own_part_file_only(tmp_path: Path) -> None:
    part = tmp_path / "file.part"
    with resumable_private(part) as out:
        out.write(b"first")
    assert part.stat().st_mode & 0o777 == 0o600
    with resumable_private(part) as out:
        assert out.read() == b"first", "kept, to continue where it stopped"
    link = tmp_path / "link.part"
    link.symlink_to(part)
    with pytest.raises(OSError):
        resumable_private(link)


def test_make_folders_makes_every_missing_folder_above_too_at_most_0755_under_a_loose_umask(tmp_path: Path) -> None:
    """``Path.mkdir(parents=True)`` gives the folders above the last 0777 less the umask; make_folders gives each
    0755 less the umask, so under umask 000 none is writable by others (own_folder and save --to use it)."""
    was = os.umask(0)
    try:
        make_folders(tmp_path / "a" / "b" / "c")
        own_folder(tmp_path / "x" / "y", ["z"])
    finally:
        os.umask(was)
    for folder in (
        tmp_path / "a",
        tmp_path / "a" / "b",
        tmp_path / "a" / "b" / "c",
        tmp_path / "x",
        tmp_path / "x" / "y",
    ):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder
