"""provider_helper/mirror/concurrency.py: the adaptive blob limit never passes its ceiling (--blob-jobs).

The engine's own test (test_engine.py) runs blobs through a pool of exactly --blob-jobs workers, so
a limit that grew past the ceiling would not show there: these hold the limit itself."""

from __future__ import annotations

import threading

from provider_helper.mirror.concurrency import AdaptiveLimit


def test_a_limit_at_its_ceiling_stays_there_however_many_clean_windows_pass() -> None:
    limit = AdaptiveLimit(3, window=1)
    for _ in range(50):
        limit.succeeded()
        assert limit.limit == 3, "a clean window grew the limit past --blob-jobs"
    limit.overloaded()
    assert limit.limit == 1
    for expected in (2, 3, 3, 3, 3):
        limit.succeeded()
        assert limit.limit == expected


def test_no_more_transfers_than_the_ceiling_hold_a_slot_at_once_after_a_long_clean_run() -> None:
    """Many threads ask for slots after hundreds of clean transfers: never more than the ceiling run."""
    ceiling = 3
    limit = AdaptiveLimit(ceiling, window=1)
    for _ in range(200):
        with limit.slot(1):
            pass
        limit.succeeded()
    release = threading.Event()
    inside = threading.Semaphore(0)

    def transfer() -> None:
        with limit.slot(1):
            inside.release()
            release.wait(10)

    workers = [threading.Thread(target=transfer) for _ in range(ceiling + 2)]
    for worker in workers:
        worker.start()
    for _ in range(ceiling):
        assert inside.acquire(timeout=5), "the ceiling's own transfers get their slots"
    assert not inside.acquire(timeout=0.3), f"a transfer past the ceiling got a slot: {limit.in_use} in use"
    assert limit.in_use == ceiling
    release.set()
    for worker in workers:
        worker.join(10)
    assert limit.peak == ceiling
