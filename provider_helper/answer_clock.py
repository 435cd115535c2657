"""The clock on the head of an answer (its status line and headers): once its first byte arrives, the
head must keep to the rate the README gives answers read whole, or the request is given up. httpx's read
timeout starts again with every byte, so it cannot say this. ``transport.GuardedTransport`` starts a
clock for each request; the connection reading the answer (``pinned_backend``) keeps to it."""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass

from provider_helper.errors import RegistryError


@dataclass
class AnswerHead:
    """The head of one answer as it arrives: when its first byte came and how many have come since."""

    grace: float
    rate: float
    started: float | None = None
    received: int = 0

    def timeout(self, default: float | None) -> float | None:
        if self.started is None:
            return default  # waiting for the server to begin: httpx's read timeout
        left = self.started + self.grace + self.received / self.rate - time.monotonic() if self.rate else None
        if left is not None and left <= 0:
            raise RegistryError(
                f"the answer's status line and headers arrive slower than {self.rate / 1024:.0f} KiB/s "
                f"after {self.grace:.0f} s; giving up on it"
            )
        return left if default is None or (left is not None and left < default) else default


# The head being read in this context (the thread sending the request), None between requests.
CURRENT: contextvars.ContextVar[AnswerHead | None] = contextvars.ContextVar("nvcf_answer_head", default=None)
