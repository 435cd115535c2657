"""Exponential backoff with full jitter that honours Retry-After."""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from provider_helper.errors import TlsError, TransientError, UnreachableError
from provider_helper.origin import authority
from provider_helper.wording import setting

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

    def brief(self) -> RetryPolicy:
        """For a check a user waits on (the preflight ping): at most three attempts, about 1.5 s of waits
        at most, so an unreachable host is named within seconds rather than after the whole backoff."""
        return dataclasses.replace(self, attempts=min(self.attempts, 3), max_delay=min(self.max_delay, 1.0))

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


def call_with_retries(
    operation: Callable[[], T], policy: RetryPolicy, what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run ``operation``; on a transient failure wait and try again, up to ``policy.attempts`` times.
    A connection that still fails after the last attempt is raised as an error kind naming the host."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except (TransientError, *RETRYABLE_TRANSPORT) as exc:
            if attempt == policy.attempts:
                if isinstance(exc, httpx.TransportError):
                    raise transport_failure(exc, what) from None
                raise
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            wait = policy.delay(attempt, retry_after)
            log.debug("%s: %s; retry %d/%d in %.1fs", what, describe(exc), attempt, policy.attempts - 1, wait)
            sleep(wait)
    raise AssertionError("unreachable")


def describe(exc: BaseException) -> str:
    """A one-line description of an error without URLs' query strings (signed URLs carry tokens)."""
    if isinstance(exc, httpx.TransportError):
        return (
            f"{type(exc).__name__}: connection failed"
            if not str(exc)
            else f"{type(exc).__name__}: {str(exc).split('?')[0]}"
        )
    return str(exc)


def transport_failure(exc: httpx.TransportError, what: str) -> UnreachableError | TlsError:
    """A failed connection in words a user can act on: the host, and what failed."""
    try:
        host = authority(exc.request.url)
    except RuntimeError:  # an error raised before a request existed
        host = "the server"
    return tls_failure(exc, host) or UnreachableError(f"{what}: cannot reach {host}: {_reason(exc)}")


def tls_failure(exc: httpx.TransportError, host: str) -> TlsError | None:
    """The error kind for a failed TLS handshake (an unknown CA, a server speaking plain HTTP); None for
    other failures."""
    text = str(exc)
    if isinstance(exc.__cause__, ssl.SSLError) or "SSL" in text or "certificate" in text:
        return TlsError(f"TLS to {host} failed: {describe(exc)} (use {setting('ca_file')} for a private CA)")
    return None


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc)
    if isinstance(exc, httpx.ConnectError) and any(
        s in text
        for s in (
            "Name or service not known",
            "nodename nor servname",
            "Temporary failure in name resolution",
            "No address associated",
        )
    ):
        return "the name does not resolve (check the host name, DNS and HTTPS_PROXY)"
    if "Connection refused" in text:
        return "connection refused (nothing listens on that port)"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    return describe(exc)
