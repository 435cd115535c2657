"""provider_helper/mirror/packing.py: a saved layout packed for travel. One ``.tar`` holding every file of the
layout under its path in the layout (the save's own dot-files left out), written privately and renamed into place;
or, with a part size, its parts ``.000``, ``.001``, … and their checksum list. The staging folder goes."""

from __future__ import annotations

import hashlib
import stat
import tarfile
from pathlib import Path

from provider_helper.mirror.packing import pack


def _staging(tmp_path: Path) -> Path:
    staging = tmp_path / "bundle.tar.partial"
    (staging / "blobs" / "sha256").mkdir(parents=True)
    (staging / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (staging / "index.json").write_text('{"schemaVersion":2,"manifests":[]}')
    (staging / "blobs" / "sha256" / ("a" * 64)).write_bytes(b"layer" * 1000)
    (staging / ".nvcf-mirror-save").write_text("the save's marker")
    return staging


def test_a_layout_becomes_one_private_tar_of_its_files_and_the_staging_folder_goes(tmp_path: Path) -> None:
    staging = _staging(tmp_path)
    archive = tmp_path / "bundle.tar"
    pack(staging, archive)
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
        assert tar.extractfile(f"blobs/sha256/{'a' * 64}").read() == b"layer" * 1000  # type: ignore[union-attr]
    assert names == [f"blobs/sha256/{'a' * 64}", "index.json", "oci-layout"]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert not staging.exists(), "the staging folder was left behind"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.tar"], "a temporary file was left beside the archive"


def test_with_a_part_size_the_tar_comes_in_parts_of_that_size_with_their_checksums(tmp_path: Path) -> None:
    staging = _staging(tmp_path)
    archive = tmp_path / "bundle.tar"
    pack(staging, archive, part_size=4096)
    parts = sorted(tmp_path.glob("bundle.tar.[0-9][0-9][0-9]"))
    assert len(parts) >= 2 and not archive.exists()
    assert all(p.stat().st_size == 4096 for p in parts[:-1]) and 0 < parts[-1].stat().st_size <= 4096
    listed = (tmp_path / "bundle.tar.sha256").read_text()
    for part in parts:
        assert f"{hashlib.sha256(part.read_bytes()).hexdigest()}  {part.name}" in listed
    joined = tmp_path / "joined.tar"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    with tarfile.open(joined) as tar:
        assert sorted(tar.getnames()) == [f"blobs/sha256/{'a' * 64}", "index.json", "oci-layout"]
    assert not staging.exists()
