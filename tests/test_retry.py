"""Unit tests of provider_helper/retry.py: Retry-After, bounded backoff."""

from __future__ import annotations

from provider_helper.errors import TransientError
from provider_helper.retry import (
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)


def test_retry_after_is_honoured_then_backoff_is_bounded() -> None:
    sleeps: list[float] = []
    calls = iter([TransientError("429", status=429, retry_after=7), TransientError("503", status=503), "ok"])

    def operation() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, str)
        return item

    assert (
        call_with_retries(operation, RetryPolicy(attempts=5, base_delay=0.5, max_delay=2), "op", sleep=sleeps.append)
        == "ok"
    )
    assert sleeps[0] == 7 and 0 <= sleeps[1] <= 1.0
    assert parse_retry_after("12") == 12 and parse_retry_after(None) is None
