"""Local servers run as child processes: start one, wait until it answers, stop it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """A server started with its output in ``log``; ``start`` returns once ``probe_url`` answers."""

    def __init__(self, name: str, command: list[str], log: Path, probe_url: str, timeout: float = 30.0) -> None:
        # the probe trusts any certificate
        self.name, self.log, self.probe_url, self.timeout = name, log, probe_url, timeout
        self.command = command
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                httpx.get(self.probe_url, timeout=1, verify=False)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer at {self.probe_url}; see {self.log}")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
