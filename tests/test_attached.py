"""Unit tests of provider_helper/mirror/attached.py: the tags attached manifests are kept under."""

from __future__ import annotations

import pytest
import readme_text

from provider_helper.errors import RegistryError
from provider_helper.mirror.attached import (
    COSIGN_TAGS,
    MAX_LISTED,
    Attachment,
    Finder,
    fallback_tag,
    referrer_tag,
    refuse_long_listing,
)


def test_a_referrer_refused_by_digest_is_kept_under_its_subject_tag_and_16_hex_of_its_digest() -> None:
    """README Signatures: "A referrer the target refuses by digest ... is kept under the tag
    `sha256-<subject hex>.<16 hex of its digest>.ref`"."""
    subject, referrer = "sha256:" + "a" * 64, "sha256:" + "0123456789abcdef" + "f" * 48
    tag = referrer_tag(Attachment("referrer", subject, referrer))
    assert tag == f"sha256-{'a' * 64}.0123456789abcdef.ref"


def test_referrers_of_one_digest_and_manifests_of_one_attached_index_are_capped_at_the_readmes_256() -> None:
    stated = int(readme_text.limit("referrers of one digest"))
    assert stated == MAX_LISTED
    refuse_long_listing("the index", stated)  # at the cap: kept
    with pytest.raises(RegistryError) as refused:
        refuse_long_listing("the index", stated + 1)
    assert str(refused.value) == (
        f"the index names {stated + 1} manifests, more than the {stated} nvcf-mirror copies; refusing a listing that "
        "looks broken (--no-signatures skips it)"
    )


def test_cosign_keeps_signatures_attestations_and_sboms_under_their_three_tags() -> None:
    assert COSIGN_TAGS == {".sig": "signature", ".att": "attestation", ".sbom": "sbom"}
    assert fallback_tag("sha256:" + "a" * 64) == "sha256-" + "a" * 64


class CountingSource:
    """A source with a cosign signature, an attestation and an SBOM of one subject, counting its tag lists."""

    def __init__(self, subject: str) -> None:
        stem = fallback_tag(subject)
        self.listed = [f"{stem}.sig", f"{stem}.att", f"{stem}.sbom", "1.0", f"{stem}.unrelated"]
        self.tag_lists = 0

    def tags(self, repo: str) -> list[str]:
        self.tag_lists += 1
        return self.listed

    def list_referrers(self, repo: str, digest: str) -> None:
        return None


def test_finding_what_is_attached_costs_one_tag_list_per_source_repository_per_run() -> None:
    """README Signatures: "Finding them costs one tag list per source repository per run"."""
    readme_text.said(r"Finding them costs one tag list per source repository per run")
    subject, other = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    source = CountingSource(subject)
    finder = Finder()
    found = finder.find(source, "org/app", (subject,), by_name=True)  # type: ignore[arg-type]
    assert [(a.kind, a.reference) for a in found.attachments] == [
        ("signature", f"{fallback_tag(subject)}.sig"),
        ("attestation", f"{fallback_tag(subject)}.att"),
        ("sbom", f"{fallback_tag(subject)}.sbom"),
    ]
    finder.find(source, "org/app", (other,))  # type: ignore[arg-type]
    assert source.tag_lists == 1, "a second artifact of the same repository listed its tags again"
    finder.find(source, "org/other", (subject,))  # type: ignore[arg-type]
    assert source.tag_lists == 2, "another repository has its own tag list"
