"""provider_helper/quickexit.py: a finished or interrupted command exits with its code, everything written flushed,
without the interpreter's teardown (atexit handlers, joining worker threads)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import atexit, sys, threading, time
from provider_helper.quickexit import exit_now
atexit.register(lambda: print("teardown ran"))
threading.Thread(target=time.sleep, args=(60,)).start()  # a worker still waiting on the network
sys.stdout.write("written")
sys.stderr.write("noted")
exit_now(3)
"""


def test_exit_now_flushes_both_streams_and_exits_with_the_code_without_teardown() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "written", "noted")
