"""Run a command and record its own peak RSS.

Linux starts a forked child's peak-RSS counter at its parent's size, so measuring a command
started straight from a large test or benchmark process reports that process's size instead.
This small launcher forks the command itself and writes the child's figure (KiB) to a file:

    python -m provider_helper.sandbox.measure PEAK_FILE COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    out, command = argv[0], argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w") as handle:
        handle.write(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
