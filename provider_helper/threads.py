"""Worker threads that leave Ctrl-C to the main thread.

Linux delivers a process-directed SIGINT to any thread that does not block it. Python runs its
handler only in the main thread, and a main thread waiting on a lock (a future's result) is woken
only when the signal lands on it; landing on a worker, Ctrl-C would be noticed when that wait ends
on its own, which can be a whole artifact later. So every worker blocks SIGINT.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor


def _block_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def worker_pool(max_workers: int, name: str) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name, initializer=_block_sigint)
