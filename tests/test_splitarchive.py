"""provider_helper/splitarchive.py: a bundle split into parts of at most --archive-size bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import readme_text
from helpers import run_cli

from provider_helper.errors import InputError
from provider_helper.splitarchive import (
    MAX_CHECKSUM_LIST_BYTES,
    MIN_PART,
    PartsReader,
    PartsWriter,
    listed_parts,
    parse_size,
    split_archive,
    verified_parts,
)


def test_a_split_bundle_is_written_as_name_000_001_and_its_checksum_list(tmp_path: Path) -> None:
    """README: "save --to nvcf.tar --archive-size 4GiB writes nvcf.tar.000, .001, … and nvcf.tar.sha256 ...
    load --from nvcf.tar (or --from nvcf.tar.000)". Parts of 10 bytes here (the writer takes any size;
    the flag's floor of 1 MiB is parse_size's, tested with the limits)."""
    archive = tmp_path / "nvcf.tar"
    writer = PartsWriter(archive, 10)
    writer.write(b"x" * 25)
    writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "nvcf.tar.000",
        "nvcf.tar.001",
        "nvcf.tar.002",
        "nvcf.tar.sha256",
    ]
    assert [line.split()[1] for line in (tmp_path / "nvcf.tar.sha256").read_text().splitlines()] == [
        "nvcf.tar.000",
        "nvcf.tar.001",
        "nvcf.tar.002",
    ]
    assert [p.stat().st_size for p in verified_parts(archive)] == [10, 10, 5]
    assert split_archive(archive) == archive
    assert split_archive(tmp_path / "nvcf.tar.000") == archive


def _three_parts(tmp_path: Path) -> Path:
    archive = tmp_path / "nvcf.tar"
    writer = PartsWriter(archive, 10)
    writer.write(b"x" * 25)
    writer.commit()
    return archive


def test_a_part_changed_after_the_list_is_found_corrupt_as_it_is_read(tmp_path: Path) -> None:
    """README Transfer paths: load "hashes each part against the list as it reads it ...; a missing or corrupt part
    is one line naming it, exit 2, and nothing is pushed"."""
    archive = _three_parts(tmp_path)
    (tmp_path / "nvcf.tar.001").write_bytes(b"y" * 10)
    listed = listed_parts(archive)
    reader = PartsReader([p for p, _ in listed], [d for _, d in listed], archive)
    with pytest.raises(InputError) as corrupt:
        reader.read()
    assert str(corrupt.value) == (
        f"{tmp_path / 'nvcf.tar.001'}: corrupt: part 2 of the split bundle nvcf.tar does not match its checksum"
    )


def test_a_part_the_list_names_that_is_not_there_is_named_missing(tmp_path: Path) -> None:
    """README Transfer paths: "load --from nvcf.tar ... checks that every part the list names is there ...;
    a missing or corrupt part is one line naming it, exit 2"."""
    archive = _three_parts(tmp_path)
    (tmp_path / "nvcf.tar.002").unlink()
    for check in (listed_parts, verified_parts):
        with pytest.raises(InputError) as missing:
            check(archive)
        assert str(missing.value) == f"{tmp_path / 'nvcf.tar.002'}: missing: part 3 of the split bundle nvcf.tar"


def test_the_checksum_list_is_read_up_to_the_1_mib_the_readme_states_and_refused_one_byte_past(tmp_path: Path) -> None:
    """README Limits: "a bundle's `index.json` / lock ... / split checksum list, read before it is parsed |
    4 MiB / 16 MiB / 1 MiB"."""
    limit = readme_text.size(readme_text.limit("a bundle's `index.json` / lock").split(" / ")[2])
    assert limit == MAX_CHECKSUM_LIST_BYTES
    archive = tmp_path / "nvcf.tar"
    listing = tmp_path / "nvcf.tar.sha256"
    listing.write_bytes(b"\n" * limit)
    with pytest.raises(InputError) as at_limit:
        listed_parts(archive)  # read, then found to name no parts
    assert "larger than" not in str(at_limit.value)
    listing.write_bytes(b"\n" * (limit + 1))
    with pytest.raises(InputError, match=f"larger than {limit} bytes"):
        listed_parts(archive)


@pytest.mark.parametrize(
    ("given", "size"),
    [
        ("4GiB", 4 * 2**30),
        ("500MB", 500 * 10**6),
        ("1MiB", 2**20),
        ("1024KiB", 2**20),
        ("2000KB", 2 * 10**6),
        ("4GB", 4 * 10**9),
        ("1TiB", 2**40),
        ("1TB", 10**12),
        ("1048576", 2**20),
        ("1048576B", 2**20),
        ("4 GiB", 4 * 2**30),
        ("4gib", 4 * 2**30),
        ("500mb", 500 * 10**6),
    ],
)
def test_archive_sizes_with_i_are_binary_and_without_decimal(given: str, size: int) -> None:
    """--help: "parts of at most SIZE (4GiB, 500MB)"; README: FAT32 media at 4 GiB. KiB/MiB/GiB/TiB are powers
    of 1024, KB/MB/GB/TB of 1000, a bare number is bytes, units are read in any case."""
    assert parse_size(given) == size


def test_the_help_examples_are_the_sizes_parse_size_reads() -> None:
    shown = " ".join(run_cli("save", "--help").stdout.split())
    assert "parts of at most SIZE (4GiB, 500MB)" in shown
    assert "--archive-size 4GiB" in readme_text.README


@pytest.mark.parametrize("given", ["1048575", "1023KiB", "1MB", "0", "lots", "4 GiB of parts", "-4GiB", ""])
def test_a_size_under_1_mib_or_not_a_size_is_one_line_naming_the_flag(given: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_size(given)
    assert str(refused.value) == (f"--archive-size {given!r}: expected a size of at least 1 MiB, such as 4GiB or 500MB")


def test_exactly_1_mib_is_the_smallest_part_size() -> None:
    assert MIN_PART == 2**20 == parse_size("1MiB") == parse_size("1048576")


@pytest.mark.parametrize(("written", "parts"), [(20, [10, 10]), (21, [10, 10, 1]), (9, [9]), (10, [10])])
def test_parts_hold_at_most_the_part_size_and_fill_one_before_the_next(
    tmp_path: Path, written: int, parts: list[int]
) -> None:
    archive = tmp_path / "b.tar"
    writer = PartsWriter(archive, 10)
    for byte in range(written):  # one byte at a time: each part is cut at its size, not at a write's end
        writer.write(bytes([byte % 256]))
    writer.commit()
    assert [p.stat().st_size for p in verified_parts(archive)] == parts
    assert b"".join(p.read_bytes() for p in verified_parts(archive)) == bytes(b % 256 for b in range(written))


def test_one_large_write_is_cut_at_each_part_size(tmp_path: Path) -> None:
    writer = PartsWriter(tmp_path / "b.tar", 10)
    writer.write(b"x" * 35)
    writer.commit()
    assert [p.stat().st_size for p in verified_parts(tmp_path / "b.tar")] == [10, 10, 10, 5]


def test_the_checksum_list_comes_last_so_a_save_cut_short_leaves_no_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: "... and nvcf.tar.sha256, the checksum list, last": a bundle is complete once its list exists."""
    writer = PartsWriter(tmp_path / "b.tar", 10)
    writer.write(b"x" * 25)
    renamed: list[str] = []

    def replace(source: object, target: object) -> None:
        if len(renamed) == 2:
            raise OSError("disk gone")
        renamed.append(str(target))
        os.rename(str(source), str(target))

    monkeypatch.setattr(os, "replace", replace)  # splitarchive calls os.replace
    with pytest.raises(OSError, match="disk gone"):
        writer.commit()
    assert not (tmp_path / "b.tar.sha256").exists()


def test_a_checksum_list_line_naming_another_part_is_refused(tmp_path: Path) -> None:
    archive = _three_parts(tmp_path)
    listing = tmp_path / "nvcf.tar.sha256"
    lines = listing.read_text().splitlines()
    lines[0], lines[1] = lines[1], lines[0]  # swapped: the first line names .001
    listing.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as refused:
        listed_parts(archive)
    assert str(refused.value) == f"{listing}: line 1 is not '<sha256>  nvcf.tar.000'"


def test_a_checksum_list_line_without_a_sha256_is_refused(tmp_path: Path) -> None:
    archive = _three_parts(tmp_path)
    listing = tmp_path / "nvcf.tar.sha256"
    listing.write_text("md5:abc  nvcf.tar.000\n")
    with pytest.raises(InputError) as refused:
        listed_parts(archive)
    assert str(refused.value) == f"{listing}: line 1 is not '<sha256>  nvcf.tar.000'"


def test_a_split_bundle_without_its_checksum_list_is_one_line(tmp_path: Path) -> None:
    archive = _three_parts(tmp_path)
    (tmp_path / "nvcf.tar.sha256").unlink()
    with pytest.raises(InputError) as refused:
        listed_parts(archive)
    assert str(refused.value) == (
        f"{tmp_path / 'nvcf.tar.sha256'}: missing: the checksum list of the split bundle nvcf.tar (save writes it last)"
    )


def test_an_empty_checksum_list_names_no_part(tmp_path: Path) -> None:
    (tmp_path / "nvcf.tar.sha256").write_text("")
    with pytest.raises(InputError) as refused:
        listed_parts(tmp_path / "nvcf.tar")
    assert str(refused.value) == f"{tmp_path / 'nvcf.tar.sha256'}: names no part"


def test_a_whole_tar_or_another_name_is_no_split_bundle(tmp_path: Path) -> None:
    whole = tmp_path / "whole.tar"
    whole.write_bytes(b"")
    assert split_archive(whole) is None, "a .tar that exists is read whole"
    assert split_archive(tmp_path / "absent.tar") is None, "no parts and no list: not a split bundle"
    assert split_archive(tmp_path / "x.tar.001") is None, "only the first part names the bundle"


def test_archive_size_reads_the_readmes_4gib_as_binary_gibibytes_each_unit_and_the_1_mib_floor() -> None:
    """README Air-gapped installs: "Transfer paths with a size limit (FAT32 media at 4 GiB, ...): `save --to nvcf.tar
    --archive-size 4GiB`". The README's own value, read from it, is 4 x 2^30 bytes, not 4 x 10^9; every binary unit
    is a power of 1024 and every decimal one a power of 1000; the smallest part, 1 MiB, is taken and one byte less is
    one line naming the flag."""
    from provider_helper.splitarchive import parse_size

    value = readme_text.said(r"--archive-size (\d+GiB)`")[1]
    assert parse_size(value) == int(value.removesuffix("GiB")) * 1024**3
    assert [parse_size(f"2{unit}") for unit in ("MiB", "GiB", "TiB")] == [2 * 1024**2, 2 * 1024**3, 2 * 1024**4]
    assert [parse_size(f"2{unit}") for unit in ("MB", "GB", "TB")] == [2 * 1000**2, 2 * 1000**3, 2 * 1000**4]
    assert parse_size("1024KiB") == parse_size("1MiB") == parse_size("1048576") == 1024**2
    with pytest.raises(InputError) as small:
        parse_size("1048575")
    assert str(small.value) == "--archive-size '1048575': expected a size of at least 1 MiB, such as 4GiB or 500MB"
