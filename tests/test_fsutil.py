"""Unit tests of provider_helper/fsutil.py: the private files and folders every write goes through."""

from __future__ import annotations

from pathlib import Path

import pytest

from provider_helper.fsutil import create_private, is_private_dir


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
