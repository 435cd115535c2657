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


def test_a_burst_of_the_quota_passes_at_once_and_the_next_call_waits_its_interval() -> None:
    """ECR's PutImage quota of 10 a second: ten calls pass without a wait, the eleventh waits a tenth of a second."""
    from provider_helper.registry.ratelimit import RateLimiter

    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter()
    assert sleeps == [], "the burst waited"
    limiter()
    assert len(sleeps) == 1 and abs(sleeps[0] - 0.1) < 1e-9
