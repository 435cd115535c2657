"""How many blob transfers run at once: as many as the registry takes, found as TCP finds a window.

The limit starts at its ceiling (``--blob-jobs``): most of a mirror run is small blobs whose time is
round trips, not bandwidth. A sign of overload (429, 503, a connection reset) halves it; every
``window`` transfers that finish cleanly add one back, up to the ceiling (additive increase,
multiplicative decrease). Bytes in flight are bounded too, so a few large layers do not share a
link with a dozen more; a transfer larger than the bound still runs, alone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from provider_helper.errors import CancelledError

log = logging.getLogger(__name__)

MAX_BYTES_IN_FLIGHT = 1 << 30


class AdaptiveLimit:
    def __init__(self, ceiling: int, *, window: int = 4, max_bytes: int = MAX_BYTES_IN_FLIGHT) -> None:
        self.ceiling = ceiling
        self.limit = ceiling
        self.window = window
        self.max_bytes = max_bytes
        self.in_use = 0
        self.bytes_in_flight = 0
        self.peak = 0  # the most transfers that ran at once (the benchmark and the tests read it)
        self._clean = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def slot(self, size: int) -> Iterator[None]:
        """Wait for room for one transfer of ``size`` bytes, hold it while the transfer runs."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.in_use < self.limit and (self.in_use == 0 or self.bytes_in_flight + size <= self.max_bytes)
            )
            self.in_use += 1
            self.bytes_in_flight += size
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= 1
                self.bytes_in_flight -= size
                self._changed.notify_all()

    def succeeded(self) -> None:
        with self._changed:
            self._clean += 1
            if self._clean >= self.window and self.limit < self.ceiling:
                self._clean = 0
                self.limit += 1
                self._changed.notify_all()

    def overloaded(self) -> None:
        with self._changed:
            self._clean = 0
            if self.limit > 1:
                self.limit = max(1, self.limit // 2)
                log.debug("the registry is overloaded: %d blob transfers at once", self.limit)


class Cancellation:
    """Ctrl-C for one run: once set, workers stop at their next step and retry waits end at once."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise CancelledError()

    def sleep(self, seconds: float) -> None:
        """A retry's wait, cut short by Ctrl-C."""
        if self._event.wait(seconds):
            raise CancelledError()
