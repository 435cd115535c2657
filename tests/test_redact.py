"""Unit tests of provider_helper/redact.py: remembered secrets never reach the log."""

from __future__ import annotations

import pytest

from provider_helper import redact
from provider_helper.redact import shown


def test_secrets_passed_to_a_log_call_as_arguments_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from provider_helper.progress import setup_logging
    from provider_helper.redact import remember

    secret = "nvapi-" + "s3cr3t" * 4
    remember(secret)
    setup_logging()
    try:
        logging.getLogger("nvcf-mirror").warning("token service answered for %s: %r", "nvcr.io", {"key": secret})
        logging.getLogger("nvcf-mirror").warning("key %s", secret)
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert secret not in err and err.count("<redacted>") == 2, err


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


def test_the_query_of_a_signed_url_is_redacted_and_the_rest_of_the_url_kept() -> None:
    """README Security: "Secrets are never printed: URL passwords (https://user:pass@…), query strings of signed
    URLs ... are replaced by <redacted>"."""
    signed = "https://storage.example/org/file.bin?X-Amz-Credential=AKIA&X-Amz-Signature=abc123"
    assert shown(f"GET {signed} failed") == "GET https://storage.example/org/file.bin?<redacted> failed"
    assert shown("http://h.example/a?token=t then https://u:p@h.example/b") == (
        "http://h.example/a?<redacted> then https://<redacted>@h.example/b"
    )
    assert shown("no URL? keep the question") == "no URL? keep the question"


def test_each_line_and_word_of_a_held_secret_is_redacted_and_short_pieces_are_not_secrets() -> None:
    """README Security: "every key, password or token the run holds are replaced by <redacted>": a value pasted with
    a line break is redacted whole and line by line; pieces shorter than 6 characters would redact ordinary words."""
    saved = set(redact._secrets)
    try:
        redact.remember("first-part\nsecond-part ab")
        assert shown("a first-part\nsecond-part ab b") == "a <redacted> b"
        assert shown("only second-part here") == "only <redacted> here"
        assert shown("first-part") == "<redacted>"
        assert shown("ab is a word") == "ab is a word"
    finally:
        redact._secrets.clear()
        redact._secrets.update(saved)
