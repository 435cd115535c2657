"""provider_helper/mirror/layout.py: a saved bundle read by ``load`` and ``verify --from`` (``LayoutSource``): a layout
folder, a .tar or a split .tar's parts, and only a layout ``save`` wrote (its index.json and its lock); each refusal
the whole line naming the bundle."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from provider_helper.errors import InputError
from provider_helper.mirror.layout import LayoutSource
from provider_helper.splitarchive import PartsWriter

INDEX: dict[str, object] = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
LOCK: dict[str, object] = {"version": 2, "base": None, "artifacts": []}


def _layout(root: Path, *, lock: bool = True, index: bool = True) -> Path:
    root.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    if index:
        (root / "index.json").write_text(json.dumps(INDEX))
    if lock:
        (root / "nvcf-mirror.lock.json").write_text(json.dumps(LOCK))
    return root


def _tar(root: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w") as tar:
        for path in sorted(root.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


@pytest.mark.parametrize("missing", ["lock", "index"])
def test_a_folder_without_the_lock_or_the_index_is_not_a_bundle(tmp_path: Path, missing: str) -> None:
    root = _layout(tmp_path / "bundle", lock=missing != "lock", index=missing != "index")
    with pytest.raises(InputError) as refused:
        LayoutSource(root)
    assert str(refused.value) == (
        f"{root}: not a layout written by 'nvcf-mirror save' (index.json and nvcf-mirror.lock.json expected)"
    )


def test_a_tar_without_the_lock_is_not_a_bundle_and_leaves_no_folder_behind(tmp_path: Path) -> None:
    archive = _tar(_layout(tmp_path / "bundle", lock=False), tmp_path / "bundle.tar")
    with pytest.raises(InputError, match=r"not a layout written by 'nvcf-mirror save' \(index.json and nvcf-mirror"):
        LayoutSource(archive)


@pytest.mark.parametrize("form", ["folder", "tar", "split", "split-000"])
def test_a_bundle_is_read_from_a_folder_a_tar_or_a_split_tar_by_its_name_or_first_part(
    tmp_path: Path, form: str
) -> None:
    """--help of load: "A layout written by 'nvcf-mirror save': a directory, a .tar, or a split .tar (its name or its
    .000 part)"."""
    root = _layout(tmp_path / "bundle")
    path = root
    if form != "folder":
        path = _tar(root, tmp_path / "bundle.tar")
    if form.startswith("split"):
        split = tmp_path / "parts" / "bundle.tar"
        split.parent.mkdir()
        writer = PartsWriter(split, 2048)
        writer.write(path.read_bytes())
        writer.commit()
        path = split if form == "split" else split.with_name("bundle.tar.000")
    source = LayoutSource(path)
    try:
        assert source.lock == LOCK and source.base is None
    finally:
        source.close()


def test_a_path_that_is_nothing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        LayoutSource(tmp_path / "nowhere")
    assert str(refused.value) == (
        f"{tmp_path / 'nowhere'}: no such bundle (a layout directory, a .tar, or the parts of a split .tar)"
    )


def test_a_differential_bundle_names_its_base(tmp_path: Path) -> None:
    root = _layout(tmp_path / "bundle", lock=False)
    base = {"lock": "sha256:" + "5" * 64, "from": "nvcf-v0.5.tar"}
    (root / "nvcf-mirror.lock.json").write_text(json.dumps({**LOCK, "base": base}))
    source = LayoutSource(root)
    try:
        assert source.base == base
    finally:
        source.close()
