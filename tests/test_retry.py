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


def test_a_connection_that_fails_says_which_host_and_what_failed_in_the_readmes_words() -> None:
    """README Use: "a connection that fails says which host and what failed: the name does not resolve, the
    connection was refused, no answer in time, or TLS (never "internal error")". Real failures of real connections:
    a `.invalid` name (never resolves), a port nothing listens on, a listener that never answers; each as the whole
    line the run shows (doctor keys its fix on these words)."""
    import socket

    import httpx

    from provider_helper.errors import UnreachableError

    def failure(url: str, timeout: float = 5.0) -> str:
        with httpx.Client(trust_env=False, timeout=timeout) as client, pytest.raises(UnreachableError) as failed:
            call_with_retries(lambda: client.get(url), RetryPolicy(attempts=1), f"GET {url}")
        return str(failed.value)

    name = "nvcf-mirror-test.invalid"
    assert failure(f"http://{name}/v2/") == (
        f"GET http://{name}/v2/: cannot reach {name}: the name does not resolve (check the host name, DNS and "
        "HTTPS_PROXY)"
    )
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert failure(f"http://127.0.0.1:{port}/v2/") == (
        f"GET http://127.0.0.1:{port}/v2/: cannot reach 127.0.0.1:{port}: connection refused (nothing listens on "
        "that port)"
    )
    with socket.socket() as silent:  # accepts the connection (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        assert failure(f"http://127.0.0.1:{port}/v2/", timeout=0.3) == (
            f"GET http://127.0.0.1:{port}/v2/: cannot reach 127.0.0.1:{port}: no answer in time (ReadTimeout)"
        )
