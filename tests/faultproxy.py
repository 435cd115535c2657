"""A reverse proxy in front of a real registry that injects the faults real registries produce
(429 with Retry-After, 503, resets and truncation mid-body, slow answers) on matching requests.

Only the fault is synthetic: every other request, and the rest of a faulty one's context, is
the real Distribution registry's answer.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
}


@dataclass
class Fault:
    method: str
    path: str  # regex searched in the path
    # "status", "reset", "truncate", "slow", "hook" (run ``before``, then forward),
    # "ignore-range" (forward without the Range header)
    kind: str
    times: int = 1  # how many matching requests get it; -1 for all
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    before: Callable[[], None] | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            method == self.method
            and re.search(self.path, path) is not None
            and (self.times < 0 or self.hits < self.times)
        )


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, int]] = []
        self.served: list[tuple[str, str, int]] = []  # method, path and the body bytes written back, of every answer
        self.user_agents: set[str] = set()  # every User-Agent the proxy saw
        self.spans: list[tuple[float, float, str, str]] = []  # start, end, method, path of every request
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=upstream, timeout=60)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.served.clear()
            self.spans.clear()
            self.user_agents.clear()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and re.search(path, p))

    def bytes_served(self, method: str, path: str) -> int:
        """The body bytes the proxy wrote back to matching requests."""
        return sum(n for m, p, n in self.served if m == method and re.search(path, p))

    def peak(self, method: str, path: str) -> int:
        """The most matching requests that were in flight at the same moment."""
        edges = sorted(
            edge
            for start, end, m, p in self.spans
            if m == method and re.search(path, p)
            for edge in ((start, 1), (end, -1))
        )
        in_flight = highest = 0
        for _, step in edges:  # at equal times the end (-1) sorts first: touching spans do not overlap
            in_flight += step
            highest = max(highest, in_flight)
        return highest

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                started = time.monotonic()
                try:
                    self._forward()
                finally:
                    proxy.spans.append((started, time.monotonic(), self.command, self.path))

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.user_agents.add(self.headers.get("User-Agent", ""))
                fault = proxy._take(self.command, self.path.split("?")[0])
                if fault and fault.kind == "status":
                    proxy.log.append((self.command, self.path, fault.status))
                    self._reply(fault.status, {**fault.headers, "Content-Type": "application/json"}, fault.body)
                    return
                if fault and fault.kind == "slow":
                    time.sleep(fault.delay)
                if fault and fault.before:
                    fault.before()
                ignored = {"range"} if fault and fault.kind == "ignore-range" else set()
                dropped = HOP_BY_HOP | {"content-length"} | ignored
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                upstream = proxy._client.request(self.command, self.path, content=body, headers=headers)
                proxy.log.append((self.command, self.path, upstream.status_code))
                reply_headers = {
                    k: v
                    for k, v in upstream.headers.items()
                    if k.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}
                }
                data = upstream.content
                if fault and fault.kind in ("reset", "truncate") and len(data) > 1:
                    self.send_response(upstream.status_code)
                    for k, v in reply_headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    proxy.served.append((self.command, self.path, len(data) // 2))
                    if fault.kind == "reset":
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                        )
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._reply(upstream.status_code, reply_headers, data)

            def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                    proxy.served.append((self.command, self.path, len(data)))

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
