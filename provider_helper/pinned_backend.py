"""Where httpx connects (httpcore's network backend): to the address the address policy checked, never a
second answer, with every read of an answer's head kept to its clock (``answer_clock``). Imported when a
client's transport is first made (``transport.direct_transport``), with httpcore."""

from __future__ import annotations

import socket
import ssl
import time
import typing
from collections.abc import Callable, Iterable

import httpcore

from provider_helper import answer_clock


class WatchedStream(httpcore.NetworkStream):
    """A connection whose reads keep to the clock of the answer head being read (``answer_clock.CURRENT``)."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        head = answer_clock.CURRENT.get()
        if head is None:
            return self._stream.read(max_bytes, timeout)
        try:
            data = self._stream.read(max_bytes, head.timeout(timeout))
        except httpcore.ReadTimeout:
            # raises when the clock, not httpx's timeout, ran out
            head.timeout(0.0 if head.started is not None else None)
            raise
        if head.started is None:
            head.started = time.monotonic()
        head.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return WatchedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class PinnedBackend(httpcore.SyncBackend):
    """Connects to the addresses the resolver pinned for the host (the ones the policy checked)."""

    def __init__(self, addresses: Callable[[str], list[str]]) -> None:
        """``addresses``: the client's ``transport.Resolver.addresses``."""
        self._addresses = addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._addresses(host)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from None
        failure: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return WatchedStream(super().connect_tcp(address, port, timeout, local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure
