"""provider_helper/archive_members.py: the checks every member of an archive from the outside world passes
before anything of it is written, and the limits the README's table states (each compared with its figure,
at the limit and one past it). Each refusal is one whole line naming the archive and the member."""

from __future__ import annotations

import io
import tarfile

import pytest
import readme_text

from provider_helper.archive_members import (
    DEFAULT_LIMITS,
    MAX_DEPTH,
    ArchiveError,
    ExtractLimits,
    check_link_targets,
    checked_members,
)

ORIGIN = "bundle.tar"


def _info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, link
    return info


def _tar(*members: tarfile.TarInfo) -> tarfile.TarFile:
    """An uncompressed tar of ``members`` (regular files filled with zeros), opened for reading."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(bytes(info.size)) if info.isfile() else None)
    buffer.seek(0)
    return tarfile.open(fileobj=buffer, mode="r")


def _check(*members: tarfile.TarInfo, limits: ExtractLimits = DEFAULT_LIMITS, compressed: int | None = None) -> int:
    """How many members pass; raises ArchiveError at the first refused."""
    with _tar(*members) as tar:
        passed = list(checked_members(tar, ORIGIN, limits, compressed))
        check_link_targets(passed, ORIGIN)
        return len(passed)


def _refusal(*members: tarfile.TarInfo, **kwargs: object) -> str:
    with pytest.raises(ArchiveError) as refused:
        _check(*members, **kwargs)  # type: ignore[arg-type]
    return str(refused.value)


def test_the_default_limits_are_the_figures_of_the_readme_limits_table() -> None:
    assert ExtractLimits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_bytes == readme_text.size(readme_text.limit("bytes an archive unpacks to"))
    assert DEFAULT_LIMITS.max_members == int(readme_text.limit("entries in an archive").replace(",", ""))
    assert DEFAULT_LIMITS.max_ratio == float(readme_text.limit("unpacked / compressed size").rstrip("x"))
    assert int(readme_text.limit("folders one archive entry nests")) == MAX_DEPTH


def test_the_raise_with_column_names_the_flags_the_refusals_name() -> None:
    assert readme_text.README.count("| 64 GiB | `--max-extract-bytes` |") == 1
    assert readme_text.README.count("| 20,000 | `--max-extract-members` |") == 1
    assert readme_text.README.count("| 200x | `--max-extract-ratio` |") == 1


@pytest.mark.parametrize(
    ("member", "line"),
    [
        (_info("/etc/passwd"), "bundle.tar: entry '/etc/passwd' points outside the archive"),
        (_info("a/../../x"), "bundle.tar: entry 'a/../../x' points outside the archive"),
        (_info("pipe", tarfile.FIFOTYPE), "bundle.tar: entry 'pipe' is a device, FIFO or sparse file"),
        (_info("null", tarfile.CHRTYPE), "bundle.tar: entry 'null' is a device, FIFO or sparse file"),
        (_info("disk", tarfile.BLKTYPE), "bundle.tar: entry 'disk' is a device, FIFO or sparse file"),
        (
            _info("up", tarfile.SYMTYPE, link="../../etc"),
            "bundle.tar: link 'up' -> '../../etc' points outside the archive",
        ),
        (_info("abs", tarfile.SYMTYPE, link="/etc"), "bundle.tar: link 'abs' -> '/etc' points outside the archive"),
        (_info("hard", tarfile.LNKTYPE, link="../x"), "bundle.tar: link 'hard' -> '../x' points outside the archive"),
    ],
    ids=["absolute", "dotdot", "fifo", "char-device", "block-device", "link-up", "link-absolute", "hardlink-up"],
)
def test_each_member_that_could_escape_or_is_no_file_is_refused_in_one_line_naming_it(
    member: tarfile.TarInfo, line: str
) -> None:
    assert _refusal(_info("ok", size=1), member) == line


def test_an_entry_listed_twice_is_refused() -> None:
    assert _refusal(_info("a", size=1), _info("a", size=2)) == "bundle.tar: entry 'a' appears twice"


def test_a_folder_listed_twice_is_no_duplicate() -> None:
    assert _check(_info("d", tarfile.DIRTYPE), _info("d", tarfile.DIRTYPE), _info("d/f", size=1)) == 3


def test_a_member_under_a_symbolic_link_of_the_archive_is_refused() -> None:
    line = _refusal(_info("a", tarfile.SYMTYPE, link="."), _info("a/b", size=1))
    assert line == "bundle.tar: entry 'a/b' lies under a symbolic link of the archive"


def test_a_hard_link_through_a_symbolic_link_is_refused() -> None:
    line = _refusal(
        _info("s", tarfile.SYMTYPE, link="d"), _info("d", tarfile.DIRTYPE), _info("h", tarfile.LNKTYPE, link="s/f")
    )
    assert line == "bundle.tar: hard link 'h' passes through a symbolic link of the archive"


def test_links_that_stay_inside_pass() -> None:
    assert _check(_info("f", size=1), _info("l", tarfile.SYMTYPE, link="f"), _info("h", tarfile.LNKTYPE, link="f")) == 3


def test_entries_at_the_member_limit_pass_and_one_more_is_refused_naming_max_extract_members() -> None:
    files = [_info(f"f{n}") for n in range(5)]
    assert _check(*files, limits=ExtractLimits(max_members=5)) == 5
    line = _refusal(*files, _info("f5"), limits=ExtractLimits(max_members=5))
    assert line == "bundle.tar: more than 5 entries, counting the folders they imply (raise with --max-extract-members)"


def test_the_folders_an_entry_implies_count_as_entries() -> None:
    assert _check(_info("a/b/f"), limits=ExtractLimits(max_members=3)) == 1
    assert "more than 2 entries" in _refusal(_info("a/b/f"), limits=ExtractLimits(max_members=2))


def test_bytes_at_the_limit_pass_and_one_more_is_refused_naming_max_extract_bytes() -> None:
    assert _check(_info("a", size=600), _info("b", size=400), limits=ExtractLimits(max_bytes=1000)) == 2
    line = _refusal(_info("a", size=600), _info("b", size=401), limits=ExtractLimits(max_bytes=1000))
    assert line == "bundle.tar: unpacks to more than 1000 bytes (raise with --max-extract-bytes)"


def test_an_archive_unpacking_past_the_ratio_is_refused_naming_max_extract_ratio() -> None:
    """``compressed_size`` 10 at the default ratio (200x): 2000 bytes pass, 2001 do not."""
    assert _check(_info("a", size=2000), compressed=10) == 1
    line = _refusal(_info("a", size=2001), compressed=10)
    assert line == "bundle.tar: unpacks to more than 2000 bytes (raise with --max-extract-ratio)"


def test_an_uncompressed_archive_has_no_ratio() -> None:
    assert _check(_info("a", size=100_000)) == 1


def test_an_entry_nested_64_folders_deep_passes_and_65_is_refused() -> None:
    at_limit = "/".join(["d"] * (MAX_DEPTH - 1) + ["f"])
    past = "/".join(["d"] * MAX_DEPTH + ["f"])
    assert _check(_info(at_limit)) == 1
    assert _refusal(_info(past)) == f"bundle.tar: entry {past!r} nests more than 64 folders deep"
