"""A rate limiter shared by threads: ECR's PutImage quota is 10 calls a second per account and region.

The generic cell rate algorithm: each call reserves the next slot on a timeline and sleeps until
it, so waiting callers need no polling loop and a burst of ``burst`` calls passes at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        per_second: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.window = (max(1, burst or int(per_second)) - 1) * self.interval
        self._clock, self._sleep = clock, sleep
        self._next = clock()  # theoretical arrival time of the next call
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Block until one call is allowed."""
        with self._lock:
            now = self._clock()
            slot = max(self._next, now)
            self._next = slot + self.interval
            wait = slot - self.window - now
        if wait > 0:
            self._sleep(wait)
