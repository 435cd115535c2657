"""provider_helper/splitarchive.py: a bundle split into parts of at most --archive-size bytes."""

from __future__ import annotations

from pathlib import Path

from provider_helper.splitarchive import PartsWriter, split_archive, verified_parts


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
