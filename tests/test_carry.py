"""provider_helper/mirror/carry.py: what the source attached, copied after the artifact itself, byte-identical.
Each branch: a source that will not let us list its tags (denied, not found) gives the artifact a note, any other
failure fails it; a target without the referrers API gets the fallback-tag index, the source's own (byte for byte)
when it had one; --no-signatures carries nothing. Source and target are the in-memory store of test_engine.py."""

from __future__ import annotations

import json

import pytest
from test_engine import FallbackTagSource, MemoryStore, _digest, _referred, _run

from provider_helper.errors import DeniedError, NotFoundError, RegistryError
from provider_helper.oci.manifest import OCI_INDEX, OCI_MANIFEST, Manifest


class UnlistedSource(MemoryStore):
    """A source whose tag list answers with ``refusal`` (a registry that denies or lacks the listing)."""

    refusal: RegistryError = NotFoundError("list tags of org/app: 404 NAME_UNKNOWN")

    def tags(self, repo: str) -> list[str]:
        raise self.refusal

    def list_referrers(self, repo: str, digest: str) -> list[object] | None:  # type: ignore[override]
        raise self.refusal


@pytest.mark.parametrize(
    "refusal",
    [NotFoundError("list tags of org/app: 404 NAME_UNKNOWN"), DeniedError("list tags of org/app: 403 DENIED")],
    ids=["not-found", "denied"],
)
def test_a_source_that_will_not_list_its_tags_gets_the_artifact_a_note_not_a_failure(refusal: RegistryError) -> None:
    source = UnlistedSource()
    source.refusal = refusal
    job, payload, _ = _referred(source, "org/app")
    target = MemoryStore()
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "copied", result.error
    assert result.note == f"signatures not looked up: {refusal}"
    assert target.head_manifest("mirror/org/app", "1.0") == _digest(payload)


def test_any_other_failure_to_look_them_up_fails_the_artifact() -> None:
    source = UnlistedSource()
    source.refusal = RegistryError("list tags of org/app: 400 something else")
    job, payload, _ = _referred(source, "org/app")
    [result] = _run(MemoryStore(), [job], {job.key: payload})
    assert result.status == "failed" and "400 something else" in (result.error or "")


def test_a_target_without_the_referrers_api_gets_the_sources_own_fallback_index_byte_for_byte() -> None:
    source = FallbackTagSource()
    job, payload, referrer = _referred(source, "org/app")
    stem = _digest(payload).replace(":", "-")
    own = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": referrer.digest,
                "size": len(referrer.data),
                "artifactType": "application/spdx+json",
            }
        ],
        "annotations": {"written-by": "the source's own tool"},
    }
    index = Manifest.from_bytes(json.dumps(own, indent=2).encode(), OCI_INDEX)
    source.manifests[("org/app", stem)] = index
    target = MemoryStore()
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "copied" and result.signatures_copied == 1, result.error
    assert target.get_manifest("mirror/org/app", stem).data == index.data, "the source's own index, byte-identical"
    assert target.get_manifest("mirror/org/app", referrer.digest).data == referrer.data


def test_without_the_sources_index_the_target_gets_one_listing_the_referrers_it_was_given() -> None:
    source = MemoryStore(referrers_api=True)
    job, payload, referrer = _referred(source, "org/app")
    target = MemoryStore()
    _run(target, [job], {job.key: payload})
    fallback = target.get_manifest("mirror/org/app", _digest(payload).replace(":", "-"))
    assert [d.digest for d in fallback.children] == [referrer.digest]


def test_no_signatures_carries_nothing_attached() -> None:
    source = MemoryStore(referrers_api=True)
    job, payload, referrer = _referred(source, "org/app")
    target = MemoryStore(referrers_api=True)
    [result] = _run(target, [job], {job.key: payload}, signatures=False)
    assert result.status == "copied" and result.signatures_copied == 0 and result.attached == []
    assert ("mirror/org/app", referrer.digest) not in target.manifests
