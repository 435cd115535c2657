"""provider_helper/content/registry.py: the registry client (here: a pull rate limit that is used up)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hostile import Reply, ScriptedServer

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RateLimitError

HUB_LIMIT = {
    "Content-Type": "application/json",
    "ratelimit-limit": "100;w=21600",
    "ratelimit-remaining": "0;w=21600",
}
HUB_BODY = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}'


def test_a_retry_after_past_the_policys_longest_wait_is_not_waited_for(servers: list[Any]) -> None:
    """README: "It is retried only where the answer carries a Retry-After within the retry policy's longest
    wait (120 s); otherwise nothing more is asked of that registry in the run". A Docker Hub stand-in (a
    scripted server read as docker.io's mirror) answers 429 with Retry-After: 3600: the call fails within a
    few seconds, asked once, and a second call is not sent. Bounded by a worker thread, so a client that
    waits fails this test at once rather than after minutes."""
    server = ScriptedServer("127.0.0.1", lambda *_: Reply(429, {**HUB_LIMIT, "Retry-After": "3600"}, HUB_BODY))
    servers.append(server)
    client = RegistryClient(server.host, upstream="docker.io")
    outcome: list[BaseException | None] = []

    def first_call() -> None:
        try:
            client.get_manifest("library/nats", "2.10.22")
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 (the outcome, whatever it is, is what the test asserts)
            outcome.append(exc)

    # A daemon thread: a client that waits (the mutant sleeps 120 s per retry) neither holds up this test
    # past its bound nor the interpreter's exit.
    worker = threading.Thread(target=first_call, daemon=True)
    try:
        started = time.monotonic()
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the client waited out a Retry-After beyond the policy's 120 s"
        assert time.monotonic() - started < 10
        (error,) = outcome
        assert isinstance(error, RateLimitError), error
        assert "Docker Hub's pull rate limit is used up (100 pulls per 6 h, 0 left)" in str(error)
        with pytest.raises(RateLimitError, match="not asked, Docker Hub's pull rate limit is used up"):
            client.get_manifest("library/nats", "2.10.21")
        assert [seen.method for seen in server.seen] == ["GET"], "asked once, never again"
    finally:
        client.close()
