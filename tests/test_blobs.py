"""provider_helper/mirror/blobs.py: blobs into one target. A blob present is skipped, one held in another
repository of the target is mounted (one this run put it in, else the --mount-from prefix's repository of the same
name), anything else is streamed through the digest-verifying reader and uploaded; each digest is uploaded once a
run. The target is the tests' in-memory store (test_engine.MemoryStore), which records every call."""

from __future__ import annotations

import os

import pytest
from readme_text import said
from test_engine import MemoryStore, _image

from provider_helper.content.built import BuiltArtifact
from provider_helper.errors import DigestMismatchError
from provider_helper.mirror.blobs import BlobTransfers
from provider_helper.mirror.concurrency import Cancellation
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.resolve import Selection
from provider_helper.mirror.sources import Payload
from provider_helper.oci.manifest import Descriptor, Manifest


class Bytes:
    """Progress: the bytes the checks planned to send and those sent."""

    def __init__(self) -> None:
        self.planned_bytes = 0
        self.sent = 0

    def planned(self, n: int) -> None:
        self.planned_bytes += n

    def transferred(self, n: int) -> None:
        self.sent += n


def _payload(blobs: dict[str, bytes] | None = None) -> tuple[Payload, Manifest, dict[str, bytes]]:
    manifest, own = _image(os.urandom(3000), os.urandom(2000))
    held = own if blobs is None else blobs
    return Payload.ready(Selection(manifest, [], ["linux/amd64"]), BuiltArtifact(manifest, held)), manifest, own


def _transfers(target: MemoryStore, **kwargs: object) -> BlobTransfers:
    return BlobTransfers(target, Bytes(), Cancellation(), 4, **kwargs)  # type: ignore[arg-type]


def test_a_blob_the_target_repository_has_is_skipped_not_uploaded() -> None:
    payload, manifest, blobs = _payload()
    target = MemoryStore()
    target.blobs["mirror/app"] = dict(blobs)
    transfers = _transfers(target)
    try:
        assert transfers.copy(payload, "mirror/app", manifest.blobs) == 0
    finally:
        transfers.shutdown()
    assert "put_blob" not in target.calls and "mount_blob" not in target.calls
    assert transfers.progress.planned_bytes == 0  # type: ignore[attr-defined]


def test_a_missing_blob_is_streamed_verified_and_uploaded_and_its_bytes_counted() -> None:
    payload, manifest, blobs = _payload()
    target = MemoryStore()
    transfers = _transfers(target)
    try:
        sent = transfers.copy(payload, "mirror/app", manifest.blobs)
    finally:
        transfers.shutdown()
    assert sent == sum(len(b) for b in blobs.values())
    assert target.blobs["mirror/app"] == blobs
    assert target.calls.count("put_blob") == len(blobs)


def test_a_blob_whose_source_bytes_do_not_match_its_digest_is_not_stored() -> None:
    _, manifest, blobs = _payload()
    layer = manifest.blobs[-1]
    wrong = {**blobs, layer.digest: b"x" * layer.size}
    corrupt = Payload.ready(Selection(manifest, [], ["linux/amd64"]), BuiltArtifact(manifest, wrong))
    target = MemoryStore()
    transfers = _transfers(target)
    try:
        with pytest.raises(DigestMismatchError):
            transfers.ensure(corrupt, "mirror/app", layer)
    finally:
        transfers.shutdown()
    assert layer.digest not in target.blobs.get("mirror/app", {})


def test_a_blob_this_run_uploaded_once_is_mounted_into_the_next_repository() -> None:
    """Each digest is uploaded once a run: the second repository mounts it from the first."""
    payload, manifest, blobs = _payload()
    target = MemoryStore()
    transfers = _transfers(target)
    try:
        first = transfers.copy(payload, "mirror/app", manifest.blobs)
        second = transfers.copy(payload, "mirror/other", manifest.blobs)
    finally:
        transfers.shutdown()
    assert first == sum(len(b) for b in blobs.values()) and second == 0
    assert target.calls.count("put_blob") == len(blobs)
    assert target.calls.count("mount_blob") == len(blobs)
    assert target.blobs["mirror/other"] == blobs


def test_mount_from_lends_blobs_from_the_same_named_repository_under_the_prefix() -> None:
    """--mount-from PREFIX: a blob the target holds at PREFIX/<name> is mounted, not uploaded."""
    payload, manifest, blobs = _payload()
    target = MemoryStore()
    target.blobs["old-cluster/app"] = dict(blobs)
    target.blobs["old-cluster"] = {}  # the prefix itself is not where the blobs are
    transfers = _transfers(target, mount_from=("old-cluster",))
    try:
        assert transfers.copy(payload, "new-cluster/app", manifest.blobs) == 0
    finally:
        transfers.shutdown()
    assert "put_blob" not in target.calls
    assert target.blobs["new-cluster/app"] == blobs


def test_a_refused_mount_falls_back_to_an_upload() -> None:
    payload, manifest, blobs = _payload()
    target = MemoryStore(mounts_allowed=False)
    target.blobs["old-cluster/app"] = dict(blobs)
    transfers = _transfers(target, mount_from=("old-cluster",))
    try:
        assert transfers.copy(payload, "new-cluster/app", manifest.blobs) == sum(len(b) for b in blobs.values())
    finally:
        transfers.shutdown()
    assert target.calls.count("mount_blob") == len(blobs) and target.calls.count("put_blob") == len(blobs)


def test_a_dry_run_counts_a_missing_blob_at_its_size_once_and_a_present_one_at_nothing() -> None:
    _, manifest, blobs = _payload()
    _config, base, own = manifest.blobs
    target = MemoryStore()
    target.blobs["mirror/app"] = {base.digest: blobs[base.digest]}
    transfers = _transfers(target)
    try:
        assert transfers.would_send("mirror/app", own) == own.size
        assert transfers.would_send("mirror/other", own) == 0, "a blob another artifact of this dry run counted"
        assert transfers.would_send("mirror/app", base) == 0
    finally:
        transfers.shutdown()
    assert target.calls == [], "a dry run writes nothing"


def test_the_blob_transfers_at_once_default_to_blob_jobs_16_as_the_readme_states() -> None:
    stated = int(said(r"they start at `--blob-jobs` \((\d+)\) at once")[1])
    transfers = BlobTransfers(MemoryStore(), Bytes(), Cancellation(), EngineOptions().blob_jobs)
    try:
        assert transfers.concurrency.ceiling == transfers.concurrency.limit == stated
    finally:
        transfers.shutdown()


def test_a_blob_listed_twice_in_one_copy_is_sent_once() -> None:
    payload, manifest, _blobs = _payload()
    target = MemoryStore()
    transfers = _transfers(target)
    layer: Descriptor = manifest.blobs[-1]
    try:
        assert transfers.copy(payload, "mirror/app", [layer, layer]) == layer.size
    finally:
        transfers.shutdown()
    assert target.calls.count("put_blob") == 1
