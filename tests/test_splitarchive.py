"""provider_helper/splitarchive.py: a bundle split into parts of at most --archive-size bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
import readme_text

from provider_helper.errors import InputError
from provider_helper.splitarchive import (
    MAX_CHECKSUM_LIST_BYTES,
    PartsReader,
    PartsWriter,
    listed_parts,
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
