"""Unit tests of provider_helper/mirror/attached.py: the tags attached manifests are kept under."""

from __future__ import annotations

from provider_helper.mirror.attached import Attachment, referrer_tag


def test_a_referrer_refused_by_digest_is_kept_under_its_subject_tag_and_16_hex_of_its_digest() -> None:
    """README Signatures: "A referrer the target refuses by digest ... is kept under the tag
    `sha256-<subject hex>.<16 hex of its digest>.ref`"."""
    subject, referrer = "sha256:" + "a" * 64, "sha256:" + "0123456789abcdef" + "f" * 48
    tag = referrer_tag(Attachment("referrer", subject, referrer))
    assert tag == f"sha256-{'a' * 64}.0123456789abcdef.ref"
