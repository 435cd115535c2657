"""How provider_helper/transport.py routes a request: direct, or through the environment's proxy.

The two routes are stand-in transports that name themselves in the answer: which one a request takes is the
behaviour under test, and the hosts that are not loopback cannot be served for real here (no DNS). The same with
a real proxy server and a loopback registry: tests/test_addresses.py."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
import readme_text

from provider_helper.transport import GuardedTransport, Resolver


def _route_of(url: str) -> str:
    def named(route: str) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: httpx.Response(200, text=route))

    guarded = GuardedTransport(Resolver(), named("direct"), lambda proxy: named(f"via {proxy}"), lambda: (30.0, 1024.0))
    with httpx.Client(transport=guarded) as client:
        return client.get(url).text


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example,.corp.example")
    monkeypatch.delenv("no_proxy", raising=False)
    return monkeypatch


def test_https_proxy_and_http_proxy_carry_every_host_that_no_proxy_does_not_name(proxy_env: pytest.MonkeyPatch) -> None:
    """README Security: "HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured for every host but a loopback one"."""
    assert _route_of("https://nvcr.io/v2/") == "via http://proxy.example:3128"
    assert _route_of("http://charts.example/index.yaml") == "via http://proxy.example:3128"
    assert _route_of("https://internal.example/v2/") == "direct", "NO_PROXY names the host"
    assert _route_of("https://registry.corp.example/v2/") == "direct", "NO_PROXY names its domain"


def test_a_loopback_host_is_spoken_to_directly_whatever_the_proxy_variables_say(proxy_env: pytest.MonkeyPatch) -> None:
    """README Security: "... for every host but a loopback one, which is spoken to directly"."""
    proxy_env.setenv("NO_PROXY", "")
    for url in ("http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/", "http://[::1]:5000/v2/"):
        assert _route_of(url) == "direct", url
    assert _route_of("https://nvcr.io/v2/") == "via http://proxy.example:3128"


def test_a_name_is_resolved_once_and_its_first_answer_kept_for_the_clients_life(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Security: "each client resolves a name once and connects to the address it checked (TLS still
    names the host)". DNS is stood in for (socket.getaddrinfo answering differently each time, as a rebinding
    server would): no real resolver here can be made to change its answer between two lookups."""
    readme_text.said(r"each client resolves a name once and connects to the address it checked")
    answers = iter(["93.184.216.34", "127.0.0.1", "169.254.169.254"])
    asked: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    resolver = Resolver()
    assert resolver.addresses("registry.example") == ["93.184.216.34"]
    assert resolver.addresses("REGISTRY.example") == ["93.184.216.34"]
    assert resolver.internal("registry.example") == []
    assert asked == ["registry.example"]


def test_an_address_written_as_an_address_is_its_own_answer_and_every_other_spelling_is_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """transport.Resolver: 127.0.0.1, ::1 or an IPv4-mapped address needs no lookup; the spellings only a
    resolver reads (``127.4``, ``2130706436``) and names still go to it, so the policy checks what it answers."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def recording(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    resolver = Resolver()
    assert resolver.addresses("127.0.0.1") == ["127.0.0.1"]
    assert resolver.addresses("[::1]") == ["::1"]
    assert resolver.internal("::ffff:169.254.169.254") == ["::ffff:a9fe:a9fe"]
    assert asked == []
    assert resolver.addresses("127.4") == ["127.0.0.4"] and resolver.internal("2130706436") == ["127.0.0.4"]
    assert asked == ["127.4", "2130706436"]


def test_a_name_that_did_not_resolve_at_the_check_is_not_connected_to_on_a_second_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Security (one lookup per name a run): a server's DNS answering NXDOMAIN to the check and then the
    metadata address to the connection gets neither through; the failure is kept. DNS is stood in for by a
    getaddrinfo that answers differently each time, as such a server would."""
    answers: list[Any] = [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "169.254.169.254"]

    def rebinding(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    resolver = Resolver()
    assert resolver.internal("evil.example") == []
    with pytest.raises(socket.gaierror):
        resolver.addresses("evil.example")
    assert answers == ["169.254.169.254"], "no second lookup"
