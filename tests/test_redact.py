"""Unit tests of provider_helper/redact.py: remembered secrets never reach the log."""

from __future__ import annotations

import pytest


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
