"""Exponential backoff with full jitter that honours Retry-After."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from provider_helper.errors import TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_TRANSPORT = (httpx.TransportError,)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def call_with_retries(operation: Callable[[], T], policy: RetryPolicy, what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``operation``; on a transient failure wait and try again, up to ``policy.attempts`` times."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except (TransientError, *RETRYABLE_TRANSPORT) as exc:
            if attempt == policy.attempts:
                raise
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            wait = policy.delay(attempt, retry_after)
            log.debug("%s: %s; retry %d/%d in %.1fs", what, describe(exc), attempt, policy.attempts - 1, wait)
            sleep(wait)
    raise AssertionError("unreachable")


def describe(exc: BaseException) -> str:
    """A one-line description of an error without URLs' query strings (signed URLs carry tokens)."""
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: connection failed" if not str(exc) else f"{type(exc).__name__}: {str(exc).split('?')[0]}"
    return str(exc)
