"""Unit tests of provider_helper/archives.py: hostile archives (links, special files, bombs, entry and depth
limits); nothing escapes its folder and nothing is written before a refusal."""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from pathlib import Path

import pytest
from helpers import cve_2025_4517_archive, tar_archive

from provider_helper.archive_members import ArchiveError, ExtractLimits
from provider_helper.archives import extract_once, safe_extract
from provider_helper.splitarchive import PartsReader


def _refused_before_writing(archive: Path, dest: Path, match: str) -> None:
    with pytest.raises(ArchiveError, match=match):
        safe_extract(archive, dest)
    assert not dest.exists() or not any(dest.iterdir()), "something was written before the refusal"


def test_the_overlong_symlink_chain_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _refused_before_writing(
        cve_2025_4517_archive(tmp_path / "x.tar", outside), tmp_path / "dest", "under a symbolic link"
    )
    assert list(outside.iterdir()) == []


def test_a_symlink_chain_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    archive = tar_archive(tmp_path / "chain.tar", [("first", "file", b"1"), ("a", "sym", "."), ("a/b", "sym", "../x")])
    _refused_before_writing(archive, tmp_path / "dest", "under a symbolic link")


def test_a_link_through_another_link_is_refused(tmp_path: Path) -> None:
    """``s -> .`` then ``t -> s/x/../..``: textually inside, on disk the parent of the folder."""
    archive = tar_archive(tmp_path / "through.tar", [("s", "sym", "."), ("t", "sym", "s/x/../..")])
    _refused_before_writing(archive, tmp_path / "dest", "passes through another link")


@pytest.mark.parametrize("kind", ["fifo"])
def test_special_files_are_refused(tmp_path: Path, kind: str) -> None:
    _refused_before_writing(
        tar_archive(tmp_path / "special.tar", [("ok", "file", b"1"), ("pipe", kind, None)]),
        tmp_path / "dest",
        "device, FIFO",
    )


def test_a_compression_bomb_is_refused_and_the_limit_can_be_raised(tmp_path: Path) -> None:
    archive = tar_archive(tmp_path / "bomb.tar.gz", [("zeros", "file", 256 * 1024 * 1024)], mode="w:gz")
    assert archive.stat().st_size < 1024 * 1024
    _refused_before_writing(archive, tmp_path / "dest", "raise with --max-extract-ratio")
    small = tar_archive(tmp_path / "small.tar.gz", [("zeros", "file", 4 * 1024 * 1024)], mode="w:gz")
    _refused_before_writing(small, tmp_path / "dest2", "--max-extract-ratio")
    assert safe_extract(small, tmp_path / "dest3", ExtractLimits(max_ratio=100_000)) == [
        (tmp_path / "dest3" / "zeros").resolve()
    ]


def test_hard_links_count_what_they_unpack_to(tmp_path: Path) -> None:
    """Each hard link is written as a copy: nine names for one 1 MiB file unpack to 9 MiB."""
    entries: list[tuple[str, str, object]] = [("big", "file", 1024 * 1024)] + [
        (f"copy{i}", "lnk", "big") for i in range(8)
    ]
    archive = tar_archive(tmp_path / "links.tar", entries)
    with pytest.raises(ArchiveError, match="more than 4194304 bytes"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_bytes=4 * 1024 * 1024))
    assert not (tmp_path / "dest").exists()
    written = safe_extract(archive, tmp_path / "ok", ExtractLimits(max_bytes=16 * 1024 * 1024))
    assert sum(p.stat().st_size for p in written) == 9 * 1024 * 1024


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    archive = tar_archive(tmp_path / "many.tar", [(f"f{i}", "file", b"") for i in range(50)])
    with pytest.raises(ArchiveError, match="more than 10 entries"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_members=10))


def _deep_tar(path: Path, entries: int, depth: int) -> Path:
    """``entries`` files, each under its own chain of ``depth`` folders the archive never lists."""
    with tarfile.open(path, "w") as tar:
        for n in range(entries):
            info = tarfile.TarInfo("/".join([f"d{n}"] + ["x"] * (depth - 1) + ["f"]))
            info.size = 1
            tar.addfile(info, io.BytesIO(b"1"))
    return path


def test_the_folders_entries_imply_count_against_the_entry_limit(tmp_path: Path) -> None:
    """10 entries 50 folders deep make 500 folders: the archive lists 10 entries, the disk gets 510."""
    archive = _deep_tar(tmp_path / "deep.tar", 10, 50)
    with pytest.raises(ArchiveError, match="more than 100 entries, counting the folders they imply"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_members=100))
    assert not (tmp_path / "dest").exists()
    assert len(safe_extract(archive, tmp_path / "ok", ExtractLimits(max_members=510))) == 10


def test_an_entry_nested_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="nests more than 64 folders deep"):
        safe_extract(_deep_tar(tmp_path / "deep.tar", 1, 500), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def _open_handles_on(path: Path) -> list[str]:
    """This process's file descriptors open on ``path`` (from /proc/self/fd)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the descriptor listdir itself used is gone by now
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                found.append(fd)
    return found


@pytest.mark.parametrize(
    "fault",
    ["an I/O error on the first read", "not a tar", "a refused entry", "an I/O error in a split archive's part"],
)
def test_extract_once_closes_the_archive_on_every_path_out(tmp_path: Path, fault: str) -> None:
    """The archive ``extract_once`` opened is closed whichever way it stops, before the error reaches the caller
    (which holds the traceback, and with it the frame the handle lives in). The I/O error is a real one, not a
    mock: this process's /proc/PID/mem is a regular file whose first bytes (address 0) answer EIO."""
    raised: type[Exception]
    if fault == "an I/O error on the first read":
        archive, raised = Path(f"/proc/{os.getpid()}/mem"), OSError
    elif fault == "not a tar":
        archive, raised = tmp_path / "junk.tar", ArchiveError
        archive.write_bytes(b"not a tar archive at all" * 100)
    elif fault == "a refused entry":
        archive, raised = tar_archive(tmp_path / "up.tar", [("../up", "file", b"x")]), ArchiveError
    else:
        archive, raised = Path(f"/proc/{os.getpid()}/mem"), ArchiveError  # the part is opened as it is read
    parts = PartsReader([archive]) if fault == "an I/O error in a split archive's part" else None
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(raised) as stopped:
        extract_once(archive, dest, parts=parts)
    assert _open_handles_on(archive) == [], f"{archive} left open after {stopped.value!r}"
