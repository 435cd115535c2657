"""Unit tests of provider_helper/registry/ratelimit.py."""

from __future__ import annotations


def test_rate_limiter_holds_manifest_puts_to_the_quota() -> None:
    from provider_helper.registry.ratelimit import RateLimiter

    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        limiter()
    assert 1.9 <= now[0] <= 2.1, "30 calls at 10/s with a burst of 10 take two seconds"
