"""provider_helper/mirror/bundles.py: the lock format of differential bundles: what a base holds, read from a
layout folder, a .tar, a split .tar or its lock file alone (README: "Keep the earlier bundle, or only its lock
file"); version 1 and 2 locks serve as a base; a differential lock names its base by the sha256 of the base's lock
file and by its file name, never the connected side's path."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from test_bundle_lock import _image_in, _saved

from provider_helper.errors import InputError
from provider_helper.mirror.bundle_lock import write_lock
from provider_helper.mirror.bundles import Holdings, read_base, read_lock_bytes, write_lock_file
from provider_helper.splitarchive import PartsWriter, listed_parts


def test_a_differential_lock_names_its_base_by_the_sha256_of_its_lock_file(tmp_path: Path) -> None:
    """README: "`base.lock` is the sha256 of the base's lock file", written ``sha256:<hex>``."""
    base_dir = tmp_path / "nvcf-v0.5"
    digest, _, _ = _image_in(base_dir)
    write_lock(base_dir, [_saved(digest)[0]], [_saved(digest)[1]])
    data = (base_dir / "nvcf-mirror.lock.json").read_bytes()
    held = read_base(base_dir)
    assert held.lock_digest == "sha256:" + hashlib.sha256(data).hexdigest()
    new = tmp_path / "nvcf-v0.6"
    new.mkdir()
    write_lock(new, [], [], held)
    assert json.loads((new / "nvcf-mirror.lock.json").read_text())["base"] == {
        "lock": "sha256:" + hashlib.sha256(data).hexdigest(),
        "from": "nvcf-v0.5",
    }


@pytest.mark.parametrize(
    ("origin", "named"),
    [
        ("/home/alice/nvcf-v0.5.tar", "nvcf-v0.5.tar"),
        ("/home/alice/nvcf-v0.5/nvcf-mirror.lock.json", "nvcf-v0.5"),
        ("/home/alice/kept/nvcf-v0.5.lock.json", "nvcf-v0.5.lock.json"),
    ],
    ids=["tar", "layout-folder", "lock-file-alone"],
)
def test_base_from_is_the_base_bundles_file_name_never_its_path(tmp_path: Path, origin: str, named: str) -> None:
    write_lock_file(tmp_path, [], Holdings(origin, "sha256:" + "3" * 64))
    assert json.loads((tmp_path / "nvcf-mirror.lock.json").read_text())["base"]["from"] == named


def test_a_base_lock_is_read_from_a_layout_folder_a_tar_or_a_split_tar(tmp_path: Path) -> None:
    """README: "Keep the earlier bundle, or only its lock file ... give it to save --since"."""
    lock = json.dumps({"version": 2, "base": None, "artifacts": []}).encode()
    folder = tmp_path / "layout"
    folder.mkdir()
    (folder / "nvcf-mirror.lock.json").write_bytes(lock)
    assert read_lock_bytes(folder) == (lock, str(folder / "nvcf-mirror.lock.json"))
    tar_path = tmp_path / "bundle.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(folder / "nvcf-mirror.lock.json", arcname="nvcf-mirror.lock.json")
    assert read_lock_bytes(tar_path) == (lock, str(tar_path))
    split = tmp_path / "split" / "bundle.tar"
    split.parent.mkdir()
    writer = PartsWriter(split, 1024)
    writer.write(tar_path.read_bytes())
    writer.commit()
    assert len(listed_parts(split)) > 1
    assert read_lock_bytes(split) == (lock, str(split))
    assert read_lock_bytes(split.with_name("bundle.tar.000")) == (lock, str(split))


def test_a_tar_without_a_lock_is_not_a_bundle(tmp_path: Path) -> None:
    tar_path = tmp_path / "other.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("index.json")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InputError) as refused:
        read_lock_bytes(tar_path)
    assert (
        str(refused.value) == f"{tar_path}: not a bundle written by 'nvcf-mirror save' (no nvcf-mirror.lock.json in it)"
    )


@pytest.mark.parametrize("version", [1, 2])
def test_locks_of_version_1_and_2_serve_as_a_base_and_others_do_not(tmp_path: Path, version: int) -> None:
    lock = tmp_path / "base.lock.json"
    entry = {"key": "image:a:1", "name": "a", "tag": "1", "digest": "sha256:" + "4" * 64}
    lock.write_text(json.dumps({"version": version, "artifacts": [entry]}))
    assert read_base(lock).tags == {("a", "1"): "sha256:" + "4" * 64}
    lock.write_text(json.dumps({"version": 3, "artifacts": [entry]}))
    with pytest.raises(InputError) as refused:
        read_base(lock)
    assert str(refused.value) == f"{lock}: not a lock written by 'nvcf-mirror save' (version 1 or 2)"


def test_what_is_attached_to_a_base_artifact_counts_as_held(tmp_path: Path) -> None:
    """README: the lock lists `attached` (signatures and referrers: kind, subject, reference, digest): a differential
    bundle leaves out what its base carried, the signature's tag and manifest too."""
    subject, signature = "sha256:" + "7" * 64, "sha256:" + "8" * 64
    tag = subject.replace(":", "-") + ".sig"
    entry = {
        "key": "image:app:1.0",
        "name": "app",
        "tag": "1.0",
        "digest": subject,
        "attached": [{"kind": "signature", "subject": subject, "reference": tag, "digest": signature}],
    }
    lock = tmp_path / "base.lock.json"
    lock.write_text(json.dumps({"version": 2, "base": None, "artifacts": [entry]}))
    held = read_base(lock)
    assert held.tags == {("app", "1.0"): subject, ("app", tag): signature}
    assert held.holds(signature) and held.holds(subject)
