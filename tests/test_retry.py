"""Unit tests of provider_helper/retry.py: Retry-After, bounded backoff."""

from __future__ import annotations

import pytest
import readme_text

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


def test_a_retry_after_is_waited_up_to_the_120_s_longest_wait_the_readme_states_and_no_longer() -> None:
    """README Docker Hub: "It is retried only where the answer carries a `Retry-After` within the retry policy's
    longest wait (120 s)"."""
    longest = float(readme_text.said(r"within the retry policy's longest wait \((\d+) s\)")[1])
    policy = RetryPolicy()
    assert policy.max_retry_after == longest
    assert policy.delay(1, longest) == longest
    assert policy.delay(1, longest + 1) == longest


@pytest.mark.parametrize("retries", [3, 6, 20])
def test_the_preflight_check_tries_an_unanswering_host_three_times_whatever_retries_says(retries: int) -> None:
    """README preflight: "this check waits a few seconds at most for a host that does not answer (three
    attempts), not the whole backoff of `--retries`"."""
    readme_text.said(r"waits a few seconds at most for a host that does not answer \(three attempts\)")
    calls: list[int] = []
    sleeps: list[float] = []

    def unanswered() -> str:
        calls.append(1)
        raise TransientError("503", status=503)

    with pytest.raises(TransientError):
        call_with_retries(unanswered, RetryPolicy(attempts=retries).brief(), "ping", sleep=sleeps.append)
    assert len(calls) == 3 and sum(sleeps) <= 2.0
