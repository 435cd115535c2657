"""provider_helper/mirror/concurrency.py: the adaptive blob limit halves, grows back one at a time, bounds
the bytes in flight and never passes its ceiling (--blob-jobs).

The engine's own test (test_engine.py) runs blobs through a pool of exactly --blob-jobs workers, so
a limit that grew past the ceiling would not show there: these hold the limit itself."""

from __future__ import annotations

import threading
import time

import pytest
from readme_text import BINARY, said

from provider_helper.errors import CancelledError
from provider_helper.mirror.concurrency import AdaptiveLimit, Cancellation
from provider_helper.mirror.engine import EngineOptions


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


def test_the_adaptive_limit_halves_grows_back_one_at_a_time_and_bounds_bytes_in_flight() -> None:
    limit = AdaptiveLimit(16, window=2, max_bytes=100)
    for expected in (8, 4, 2, 1, 1):
        limit.overloaded()
        assert limit.limit == expected
    for _ in range(6):
        limit.succeeded()
    assert limit.limit == 4
    with limit.slot(80):
        room = threading.Event()

        def second() -> None:
            with limit.slot(30):
                room.set()

        waiter = threading.Thread(target=second)
        waiter.start()
        assert not room.wait(0.2), "80 + 30 bytes would pass the 100-byte bound: the second waits"
    waiter.join(5)
    assert room.is_set()
    with limit.slot(500):  # larger than the bound on its own: it runs, alone
        pass


def test_the_default_bound_on_bytes_in_flight_is_the_1_gib_the_readme_states() -> None:
    """Run without a bound: the limit's own default is the README's figure, and two transfers that together
    make exactly that bound run at once ("at most"), while one byte more waits."""
    stated = said(r"with at most (\d+) GiB of blobs in flight")
    bound = int(stated[1]) * BINARY["GiB"]
    limit = AdaptiveLimit(4)
    assert limit.max_bytes == bound
    half = bound // 2
    with limit.slot(half):
        together = threading.Event()

        def second(size: int) -> None:
            with limit.slot(size):
                together.set()

        at_bound = threading.Thread(target=second, args=(half,))
        at_bound.start()
        assert together.wait(5), "two transfers making exactly the bound waited: the bound is 'at most'"
        at_bound.join(5)
        together.clear()
        past = threading.Thread(target=second, args=(half + 1,))
        past.start()
        assert not together.wait(0.2), "one byte past the bound still ran beside the first"
    past.join(5)
    assert together.is_set()


def test_the_limit_starts_at_its_ceiling_the_blob_jobs_default_of_16_the_readme_states() -> None:
    stated = int(said(r"they start at `--blob-jobs` \((\d+)\) at once")[1])
    assert EngineOptions().blob_jobs == stated
    limit = AdaptiveLimit(EngineOptions().blob_jobs)
    assert limit.limit == limit.ceiling == stated, "the transfers start at --blob-jobs, not below it"


def test_cancellation_ends_a_retry_wait_at_once_and_stops_the_next_step() -> None:
    cancel = Cancellation()
    cancel.check()
    cancel.sleep(0.01)
    threading.Timer(0.05, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        cancel.sleep(30)
    assert time.monotonic() - started < 5
    with pytest.raises(CancelledError):
        cancel.check()


def test_the_blobs_in_flight_are_bounded_at_the_readmes_1_gib_by_default_at_the_limit_and_one_byte_past() -> None:
    """README Performance: blob transfers run "with at most 1 GiB of blobs in flight". The limit the engine makes
    (``AdaptiveLimit(blob_jobs)``, no bound given): with 1 GiB less 1 MiB in flight, a 1 MiB blob joins (exactly
    at the bound) and one of 1 MiB and a byte waits until room is made."""
    import readme_text

    stated = readme_text.said(r"with at most (\d+) GiB of blobs in flight")[1]
    bound = int(stated) * 1024**3
    limit = AdaptiveLimit(16)
    assert limit.max_bytes == bound
    mib = 1024**2
    with limit.slot(bound - mib):
        joined = threading.Event()

        def at_the_bound() -> None:
            with limit.slot(mib):
                joined.set()

        first = threading.Thread(target=at_the_bound)
        first.start()
        assert joined.wait(5), "bound - 1 MiB + 1 MiB is at the bound: it runs"
        first.join(5)
        room = threading.Event()

        def one_past() -> None:
            with limit.slot(mib + 1):
                room.set()

        second = threading.Thread(target=one_past)
        second.start()
        assert not room.wait(0.2), "one byte past the bound waits"
    second.join(5)
    assert room.is_set(), "and runs once the bytes in flight leave room"
