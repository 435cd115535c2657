"""What ``save --to DIR`` checks before it adds to DIR (provider_helper/mirror/saving.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest

from provider_helper.errors import InputError
from provider_helper.mirror.saving import layout_for_saving, writer_lock


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777])
@pytest.mark.parametrize("which", ["", "blobs", "blobs/sha256"])
def test_save_refuses_a_folder_its_group_or_anyone_may_write_to(tmp_path: Path, mode: int, which: str) -> None:
    """README Security: "save --to DIR adds to a DIR only when no other user can write into it (yours, not group-
    or world-writable)"."""
    root = tmp_path / "bundle"
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / which).chmod(mode)
    with pytest.raises(InputError) as refused:
        layout_for_saving(root)
    assert str(refused.value).startswith(f"{root / which}: a folder another user could have written")
    assert not (root / "index.json").exists(), "nothing was written"


def test_save_adds_to_a_folder_only_its_owner_may_write_to(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    root.chmod(0o755)
    layout_for_saving(root)
    assert (root / "index.json").is_file() and (root / "oci-layout").is_file()


NOBODY = 65534  # another user's uid (the tests run as root, which can hand a folder to it)


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "refused", ["a --to folder anyone may write to", "another user's --to folder", "a blobs folder anyone may write to"]
)
@pytest.mark.parametrize("taken", ["as save takes it: the writer lock, then the layout", "the layout alone"])
def test_a_refused_save_leaves_nothing_it_created_in_the_folder(tmp_path: Path, refused: str, taken: str) -> None:
    """README Security: a save into a folder another user could write to is refused, and the refusal leaves
    nothing behind: no writer lock, no ``blobs/sha256``, in the folder or in a ``blobs`` folder of it."""
    root = tmp_path / "shared"
    root.mkdir()
    if refused == "a --to folder anyone may write to":
        root.chmod(0o777)
    elif refused == "another user's --to folder":
        os.chown(root, NOBODY, NOBODY)
    else:
        (root / "blobs").mkdir()
        (root / "blobs").chmod(0o777)
    before = _tree(root)
    with pytest.raises(InputError, match="a folder another user could have written into"):
        if taken == "the layout alone":
            layout_for_saving(root)
        else:
            with writer_lock(root):
                layout_for_saving(root)
    assert _tree(root) == before, "the refused save left what it created"


def test_save_into_a_folder_anyone_may_write_to_exits_2_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    """Through the CLI: refused before any source is asked (the one below answers nothing), one line, exit 2."""
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    done = run_cli(
        "save", "--manifest", str(manifest), "--source-registry", "127.0.0.1:9", "--retries", "1", "--to", str(shared)
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{shared}: a folder another user could have written into" in done.stderr, done.stderr
    assert _tree(shared) == [], "nothing is left in the refused folder"


def test_a_save_into_a_folder_it_makes_is_not_refused_under_a_group_writable_umask(tmp_path: Path) -> None:
    """A folder the save makes itself is never one it refuses (and so never one it leaves behind refused):
    under umask 002 (user-private groups) it is made 0755, not 0775."""
    root = tmp_path / "new" / "bundle"
    was = os.umask(0o002)
    try:
        with writer_lock(root):
            layout_for_saving(root)
    finally:
        os.umask(was)
    for folder in (root, root / "blobs", root / "blobs" / "sha256"):
        assert folder.stat().st_mode & 0o022 == 0, f"{folder} is writable by others"
    assert (root / "oci-layout").is_file()
