"""provider_helper/threads.py: worker pools whose threads leave Ctrl-C (SIGINT) to the main thread."""

from __future__ import annotations

import signal
import threading

from provider_helper.threads import worker_pool


def test_every_worker_blocks_sigint_and_is_named_for_its_pool() -> None:
    with worker_pool(3, "ping") as pool:
        seen = list(
            pool.map(
                lambda _: (signal.pthread_sigmask(signal.SIG_BLOCK, set()), threading.current_thread().name), range(6)
            )
        )
    assert all(signal.SIGINT in mask for mask, _ in seen)
    assert all(name.startswith("ping") for _, name in seen)
    assert len({name for _, name in seen}) <= 3, "no more workers than asked for"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set()), "the main thread still takes Ctrl-C"
