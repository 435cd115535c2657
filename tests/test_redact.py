"""provider_helper/redact.py: secrets kept out of everything the tool prints or writes."""

from __future__ import annotations

import pytest

from provider_helper import redact


def test_a_secret_the_run_holds_is_written_redacted_in_angle_brackets_where_it_stood(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Security: "every key, password or token the run holds are replaced by <redacted> in error
    lines, logs, plan output and result documents"; URL passwords and signed URLs' queries too."""
    monkeypatch.setattr(redact, "_secrets", set())
    redact.remember("nvapi-s3cr3t-k3y")
    assert (
        redact.redact("authentication failed for nvcr.io with key nvapi-s3cr3t-k3y (refused)")
        == "authentication failed for nvcr.io with key <redacted> (refused)"
    )
    assert (
        redact.redact("GET https://robot:pw@harbor.example.com/v2/") == "GET https://<redacted>@harbor.example.com/v2/"
    )
    assert (
        redact.shown("GET https://storage.example.com/f?X-Amz-Signature=abc failed")
        == "GET https://storage.example.com/f?<redacted> failed"
    )
