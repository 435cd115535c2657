"""Unit tests of provider_helper/retry.py: Retry-After, bounded backoff."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
import readme_text

from provider_helper import http as http_layer
from provider_helper.errors import TransientError, UnreachableError
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


def test_backoff_is_exponential_with_full_jitter_up_to_its_cap() -> None:
    """README How it works: "retried with exponential backoff and jitter": retry n waits a random time between 0
    and base * 2^(n-1), capped at max_delay."""
    policy = RetryPolicy()  # the defaults: 0.5 s doubling, at most 30 s
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (7, 30.0), (12, 30.0)]:
        waits = [policy.delay(attempt, None) for _ in range(300)]
        assert all(0 <= w <= ceiling for w in waits), (attempt, max(waits))
        assert max(waits) > ceiling * 0.8, f"retry {attempt} never waited near base * 2^(n-1) = {ceiling}"
        assert len(set(waits)) > 250, "the waits are jittered, not one fixed value"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_timeouts_429_and_5xx_are_transient_and_retried(status: int) -> None:
    request = httpx.Request("GET", "https://registry.example/v2/org/app/manifests/1.0")
    error = http_layer.error_from(
        httpx.Response(status, request=request), "get manifest org/app:1.0", "registry.example"
    )
    assert isinstance(error, TransientError) and error.status == status
    answers = iter([error, "ok"])

    def operation() -> str:
        item = next(answers)
        if isinstance(item, Exception):
            raise item
        return str(item)

    assert call_with_retries(operation, RetryPolicy(attempts=2, base_delay=0), "op", sleep=lambda _: None) == "ok"


@pytest.mark.parametrize("status", [400, 404, 409])
def test_other_answers_are_not_retried(status: int) -> None:
    request = httpx.Request("GET", "https://registry.example/v2/org/app/manifests/1.0")
    error = http_layer.error_from(
        httpx.Response(status, request=request), "get manifest org/app:1.0", "registry.example"
    )
    assert not isinstance(error, TransientError)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("0") == 0 and parse_retry_after(" 30 ") == 30
    soon = email.utils.formatdate(time.time() + 60, usegmt=True)
    waited = parse_retry_after(soon)
    assert waited is not None and 55 <= waited <= 61
    assert parse_retry_after(email.utils.formatdate(time.time() - 60, usegmt=True)) == 0, "a date passed: no wait"
    assert parse_retry_after("soon") is None and parse_retry_after("") is None


def test_a_connection_that_still_fails_after_the_last_attempt_names_the_host() -> None:
    calls: list[int] = []

    def refused() -> str:
        calls.append(1)
        raise httpx.ConnectError(
            "[Errno 111] Connection refused", request=httpx.Request("GET", "http://127.0.0.1:9/v2/")
        )

    with pytest.raises(UnreachableError) as failed:
        call_with_retries(refused, RetryPolicy(attempts=3, base_delay=0), "ping 127.0.0.1:9", sleep=lambda _: None)
    assert len(calls) == 3
    assert (
        str(failed.value)
        == "ping 127.0.0.1:9: cannot reach 127.0.0.1:9: connection refused (nothing listens on that port)"
    )


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
