"""Unit tests of provider_helper/content/registry_connection.py: how a registry client connects, for a host named
with --insecure-registry and for one that is not. The registries are scripted servers on 127.0.0.1 under a name
that is not loopback by its spelling (127.0.0.0/8 would mean plain HTTP anyway): a pinned Resolver entry puts the
name on 127.0.0.1, so no traffic leaves this machine."""

from __future__ import annotations

import functools
from contextlib import closing
from pathlib import Path

import pytest
from hostile import Reply, ScriptedServer
from testca import make_ca

from provider_helper import http
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RegistryError
from provider_helper.oci.reference import is_loopback
from provider_helper.retry import RetryPolicy
from provider_helper.transport import Resolver

NAME = "registry.example.test"


def _named(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> str:
    assert not is_loopback(NAME)
    monkeypatch.setattr(http, "client", functools.partial(http.client, resolver=Resolver({NAME: ["127.0.0.1"]})))
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return f"{NAME}:{server.host.rpartition(':')[2]}"


def _v2(server: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
    return Reply(200, {"Docker-Distribution-API-Version": "registry/2.0"}, b"{}")


def test_an_insecure_registry_gets_tls_without_verification_and_any_other_host_verified_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Credentials: "every other host needs verified TLS unless named with `--insecure-registry`, which
    allows TLS without verification". A registry whose certificate no trusted CA signed (and names 127.0.0.1, not
    the name it is reached by): refused when not named, spoken to over TLS when named."""
    server = ScriptedServer("127.0.0.1", _v2, tls=make_ca(tmp_path).server_context())
    servers.append(server)
    host = _named(server, monkeypatch)
    with closing(RegistryClient(host, retry=RetryPolicy(attempts=1))) as verified, pytest.raises(RegistryError):
        verified.ping()
    with closing(RegistryClient(host, insecure=True, retry=RetryPolicy(attempts=1))) as insecure:
        assert insecure.ping() is True
        assert insecure.base_url == f"https://{host}"
    assert server.seen, "the insecure client spoke TLS to the server"


def test_an_insecure_registry_that_does_not_speak_tls_is_spoken_to_in_plain_http(
    monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Credentials: "`--insecure-registry`, which allows TLS without verification and falls back to plain
    HTTP". A plain-HTTP registry: a host not named is refused (its answer is not TLS), a named one is spoken to
    in plain HTTP after its TLS handshake fails."""
    server = ScriptedServer("127.0.0.1", _v2)
    servers.append(server)
    host = _named(server, monkeypatch)
    with closing(RegistryClient(host, retry=RetryPolicy(attempts=1))) as verified, pytest.raises(RegistryError):
        verified.ping()
    with closing(RegistryClient(host, insecure=True, retry=RetryPolicy(attempts=1))) as insecure:
        assert insecure.ping() is True
        assert insecure.base_url == f"http://{host}"
    assert [s.path for s in server.seen][-1] == "/v2/"
