"""What ``save --to DIR`` checks before it adds to DIR (provider_helper/mirror/saving.py)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest

from provider_helper.errors import InputError
from provider_helper.mirror.saving import STAGING_MARK, layout_for_saving, staging_for, writer_lock


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
    under umask 002 (user-private groups) it is made 0755, not 0775, and so is every folder above it the save
    made (``tmp_path / "new"`` here): none can be swapped by another user after the check."""
    root = tmp_path / "new" / "bundle"
    was = os.umask(0o002)
    try:
        with writer_lock(root):
            layout_for_saving(root)
    finally:
        os.umask(was)
    for folder in (tmp_path / "new", root, root / "blobs", root / "blobs" / "sha256"):
        assert folder.stat().st_mode & 0o022 == 0, f"{folder} is writable by others"
    assert (root / "oci-layout").is_file()


def test_a_second_save_into_one_layout_stops_at_once_with_a_clear_line(tmp_path: Path) -> None:
    """README: "one save at a time per layout (a second one stops with a clear line)"."""
    root = tmp_path / "bundle"
    with writer_lock(root), pytest.raises(InputError) as refused, writer_lock(root):
        pass
    assert str(refused.value) == f"{root}: another 'nvcf-mirror save' is writing to this layout; wait for it to finish"
    with writer_lock(root):  # released when the first save ends
        pass


def test_the_staging_folder_of_a_tar_save_is_0700_with_its_marker_and_is_resumed(tmp_path: Path) -> None:
    """README Security: a save resumes only "what is provably this user's: a folder owned by you with mode 0700 and
    the marker the save wrote (`x.tar.partial/`)"."""
    archive = tmp_path / "nvcf-v0.5.tar"
    old = os.umask(0o022)
    try:
        staging = staging_for(archive)
    finally:
        os.umask(old)
    assert staging == tmp_path / "nvcf-v0.5.tar.partial"
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700
    assert (staging / STAGING_MARK).is_file() and stat.S_IMODE((staging / STAGING_MARK).stat().st_mode) == 0o600
    (staging / "kept").write_bytes(b"what the first run fetched")
    assert staging_for(archive) == staging and (staging / "kept").exists(), "the next run resumes it"


@pytest.mark.parametrize("planted", ["no-marker", "open-mode", "link"])
def test_a_staging_folder_the_save_did_not_make_is_refused(tmp_path: Path, planted: str) -> None:
    archive = tmp_path / "nvcf.tar"
    staging = tmp_path / "nvcf.tar.partial"
    if planted == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        (tmp_path / "elsewhere" / STAGING_MARK).write_text("planted")
        staging.symlink_to(tmp_path / "elsewhere")
    else:
        staging.mkdir(mode=0o700)
        if planted == "open-mode":
            (staging / STAGING_MARK).write_text("planted")
            staging.chmod(0o755)
    with pytest.raises(InputError) as refused:
        staging_for(archive)
    assert str(refused.value) == (
        f"{staging}: already exists and is not a staging folder an earlier save of this user made (owned by you, "
        "mode 0700, with its marker): remove it, or save elsewhere"
    )


def test_a_blob_an_earlier_save_left_that_does_not_match_its_name_is_removed(tmp_path: Path) -> None:
    """README: "content that fails the check is deleted and fetched again on the next run"."""
    root = tmp_path / "bundle"
    good, bad = b"good blob", b"bad blob"
    folder = root / "blobs" / "sha256"
    folder.mkdir(parents=True)
    (folder / hashlib.sha256(good).hexdigest()).write_bytes(good)
    (folder / hashlib.sha256(bad).hexdigest()).write_bytes(b"something else")
    layout_for_saving(root)
    assert sorted(p.name for p in folder.iterdir()) == [hashlib.sha256(good).hexdigest()]
