"""provider_helper/pinned_backend.py: httpx connects to the address the policy checked, never to a second answer."""

from __future__ import annotations

import socket
import threading

import httpcore
import pytest

from provider_helper.pinned_backend import PinnedBackend, WatchedStream


def _listening() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    return server, int(server.getsockname()[1])


def test_it_connects_to_the_pinned_address_not_the_name() -> None:
    server, port = _listening()
    asked: list[str] = []

    def pinned(host: str) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    try:
        stream = PinnedBackend(pinned).connect_tcp("name.that.does.not.resolve.invalid", port, timeout=5)
        assert isinstance(stream, WatchedStream)
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        stream.close()
    finally:
        accepted.join(5)
        server.close()
    assert asked == ["name.that.does.not.resolve.invalid"]


def test_every_pinned_address_is_tried_and_the_last_failure_is_raised() -> None:
    server, port = _listening()
    server.close()  # nothing listens on the port now
    with pytest.raises(httpcore.ConnectError):
        PinnedBackend(lambda host: ["127.0.0.1", "127.0.0.2"]).connect_tcp("registry.example", port, timeout=2)


def test_a_name_that_does_not_resolve_is_a_connect_error_naming_it() -> None:
    def unresolvable(host: str) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(httpcore.ConnectError, match=r"^registry\.example: "):
        PinnedBackend(unresolvable).connect_tcp("registry.example", 443, timeout=2)


def test_no_address_at_all_is_a_connect_error() -> None:
    with pytest.raises(httpcore.ConnectError, match=r"^registry\.example: no address$"):
        PinnedBackend(lambda host: []).connect_tcp("registry.example", 443, timeout=2)
