"""provider_helper/content/store.py: the content API's capabilities. A store that offers a retry policy (a registry:
--retries, default 6 attempts per request or blob) has a whole blob copy tried again after a transient failure; a
store that offers none (an OCI layout on disk) gets one attempt. Which readers can start a blob part-way and which
stores keep part of one is said by the protocols they meet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from readme_text import said
from test_blobs import Bytes, _payload
from test_engine import MemoryStore

from provider_helper.content.layout import Layout
from provider_helper.content.registry import RegistryClient
from provider_helper.content.store import ONE_ATTEMPT, RangeReader, ResumableStore, Retrying, retry_policy
from provider_helper.errors import TransientError
from provider_helper.mirror.blobs import BlobTransfers
from provider_helper.mirror.concurrency import Cancellation
from provider_helper.oci.manifest import Descriptor
from provider_helper.retry import RetryPolicy


@dataclass
class FlakyStore(MemoryStore):
    """Answers the first ``failures`` blob uploads with a 503."""

    failures: int = 1

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        with self.lock:
            failing, self.failures = self.failures > 0, max(0, self.failures - 1)
        if failing:
            self.calls.append("refused put_blob")
            raise TransientError("put blob: 503 Service Unavailable", status=503)
        super().put_blob(repo, blob, chunks)


def _copy(target: MemoryStore) -> int:
    payload, manifest, _ = _payload()
    transfers = BlobTransfers(target, Bytes(), Cancellation(), 2)
    try:
        return transfers.copy(payload, "mirror/app", manifest.blobs[-1:])
    finally:
        transfers.shutdown()


def test_a_blob_copy_into_a_store_with_a_retry_policy_is_tried_again_after_a_transient_failure() -> None:
    target = FlakyStore(retry=RetryPolicy(attempts=2, base_delay=0.0))
    assert retry_policy(target) is target.retry
    assert _copy(target) > 0
    assert target.calls.count("refused put_blob") == 1 and target.calls.count("put_blob") == 1


def test_a_blob_copy_fails_once_the_policys_attempts_are_spent() -> None:
    target = FlakyStore(retry=RetryPolicy(attempts=2, base_delay=0.0), failures=2)
    with pytest.raises(TransientError):
        _copy(target)
    assert target.calls.count("refused put_blob") == 2


def test_a_registry_offers_its_retries_default_6_and_a_layout_gets_one_attempt(tmp_path: Path) -> None:
    stated = int(said(r"`--retries N` \(attempts per request or blob, default (\d+)\)")[1])
    client = RegistryClient("registry.example")
    try:
        assert isinstance(client, Retrying) and isinstance(client, RangeReader)
        assert retry_policy(client).attempts == stated
    finally:
        client.close()
    layout = Layout.for_writing(tmp_path / "layout")
    assert not isinstance(layout, Retrying) and isinstance(layout, ResumableStore)
    assert retry_policy(layout) is ONE_ATTEMPT and ONE_ATTEMPT.attempts == 1
