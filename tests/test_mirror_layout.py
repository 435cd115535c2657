"""provider_helper/mirror/layout.py: a saved bundle read by ``load`` and ``verify --from`` (``LayoutSource``): a layout
folder, a .tar or a split .tar's parts, and only a layout ``save`` wrote (its index.json and its lock); each refusal
the whole line naming the bundle."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from test_bundle_lock import _image_in, _saved

from provider_helper.content.layout import Layout
from provider_helper.errors import DigestMismatchError, InputError, RegistryError
from provider_helper.mirror.bundle_lock import write_lock
from provider_helper.mirror.layout import LayoutSource
from provider_helper.oci.manifest import OCI_MANIFEST, Manifest
from provider_helper.oci.reference import parse_target
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


def _saved_bundle(root: Path) -> tuple[LayoutSource, str]:
    """A layout holding one image as ``save`` writes it (blobs, index.json entry, lock), opened as ``load`` does."""
    digest, _, _ = _image_in(root)
    result, job = _saved(digest)
    manifest = Manifest.from_bytes((root / "blobs" / "sha256" / digest.split(":")[1]).read_bytes(), OCI_MANIFEST)
    Layout.for_writing(root).put_manifest(job.target.repository, job.target.reference, manifest)
    write_lock(root, [result], [job])
    return LayoutSource(root), digest


def test_a_saved_artifact_is_read_back_as_its_lock_and_index_name_it(tmp_path: Path) -> None:
    source, digest = _saved_bundle(tmp_path / "bundle")
    try:
        [job] = source.jobs(parse_target("registry.internal/nvcf-self-hosted"))
        assert str(job.target) == "registry.internal/nvcf-self-hosted/nvcf-openbao:2.5.1-nv-1.1.0"
        assert source.payload(job).resolved.digest == digest
    finally:
        source.close()


def test_an_index_entry_the_lock_disagrees_with_is_refused_naming_the_artifact(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    source, _ = _saved_bundle(root)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:" + "6" * 64
    (root / "index.json").write_text(json.dumps(index))
    source.close()
    source = LayoutSource(root)
    try:
        [job] = source.jobs(parse_target("registry.internal/nvcf-self-hosted"))
        with pytest.raises(DigestMismatchError) as refused:
            source.payload(job)
    finally:
        source.close()
    assert str(refused.value) == (
        "image:nvcf-openbao:2.5.1-nv-1.1.0: index.json and nvcf-mirror.lock.json disagree on its digest"
    )


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_every_blob_is_checked_before_the_artifact_is_handed_to_the_copy(tmp_path: Path, damage: str) -> None:
    """README: "`load` checks every blob against its digest before pushing it"."""
    root = tmp_path / "bundle"
    source, _ = _saved_bundle(root)
    layer = root / "blobs" / "sha256" / hashlib.sha256(b"layer bytes").hexdigest()
    if damage == "missing":
        layer.unlink()
    else:
        layer.write_bytes(b"LAYER BYTES")
    try:
        [job] = source.jobs(parse_target("registry.internal/nvcf-self-hosted"))
        with pytest.raises(RegistryError) as refused:
            source.payload(job)
    finally:
        source.close()
    if damage == "missing":
        assert str(refused.value) == f"blob sha256:{layer.name} is missing from the layout"
    else:
        assert isinstance(refused.value, DigestMismatchError) and f"sha256:{layer.name}" in str(refused.value)


def test_a_layout_archive_with_an_entry_leaving_it_is_refused_in_one_line_and_nothing_is_kept(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../outside")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InputError) as refused:
        LayoutSource(archive)
    assert (
        str(refused.value) == "refusing the layout archive: bundle.tar: entry '../outside' points outside the archive"
    )
    assert not (tmp_path / "outside").exists()
