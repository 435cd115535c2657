"""Hostile servers for the security tests: registries, storage hosts and token realms that do what
a real attacker's server would (redirect, challenge elsewhere, send uploads off-host, answer with
endless bodies), each on its own loopback address so "another host" really is another host.

Every request is recorded with its headers, so a test can assert what never reached a host.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    repeat: int = 1  # the body is sent this many times (an endless answer, within reason)


Route = Callable[["ScriptedServer", str, str, dict[str, str]], Reply]


class ScriptedServer:
    """An HTTP(S) server on ``host`` whose every answer comes from ``route``."""

    def __init__(self, host: str, route: Route, tls: ssl.SSLContext | None = None, chunk_delay: float = 0.0) -> None:
        """``chunk_delay``: seconds between the repeats of a reply's body (a server that trickles)."""
        self.route = route
        self.chunk_delay = chunk_delay
        self.seen: list[Seen] = []
        self.unfinished = 0  # answers the client stopped reading before their end
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        address, port = self._server.server_address[:2]
        return f"{address!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def authorizations(self) -> list[str]:
        return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                        self.rfile.read(size + 2)
                    self.rfile.readline()
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.seen.append(Seen(self.command, self.path, headers))
                reply = server.route(server, self.command, self.path, headers)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body) * reply.repeat))
                self.end_headers()
                if self.command == "HEAD":
                    return
                try:
                    for _ in range(reply.repeat):
                        self.wfile.write(reply.body)
                        if server.chunk_delay:
                            self.wfile.flush()
                            time.sleep(server.chunk_delay)
                except OSError:
                    server.unfinished += 1
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class TrickleServer:
    """A raw TCP server that answers every connection with ``head`` one byte every ``delay`` seconds: a
    status line and headers that never stop arriving (what ``http.server`` cannot send)."""

    def __init__(self, host: str, head: bytes, delay: float, first_delay: float = 0.0) -> None:
        """``first_delay``: seconds before the first byte (a server still working on its answer)."""
        import socket

        self.head, self.delay, self.first_delay = head, delay, first_delay
        self.connections = 0
        self._socket = socket.create_server((host, 0))
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def host(self) -> str:
        address, port = self._socket.getsockname()[:2]
        return f"{address}:{port}"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: object) -> None:
        import socket

        assert isinstance(connection, socket.socket)
        with connection:
            connection.recv(65536)
            time.sleep(self.first_delay)
            for byte in self.head:
                if self._closed.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.delay)

    def close(self) -> None:
        self._closed.set()
        self._socket.close()


def hung_up(server: ScriptedServer, within: float = 5.0) -> bool:
    """Whether the server saw the client close mid-body; its writer notices a moment after the client left."""
    deadline = time.monotonic() + within
    while server.unfinished < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.unfinished >= 1
