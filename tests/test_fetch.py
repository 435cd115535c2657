"""provider_helper/fetch.py: whole answers from classic Helm repositories, under the origin policy."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hostile import Reply, ScriptedServer

from provider_helper import http
from provider_helper.errors import RegistryError
from provider_helper.fetch import Fetcher
from provider_helper.oci.reference import is_loopback
from provider_helper.origin import OriginPolicy
from provider_helper.registry.credentials import Credential, CredentialStore, StaticCredential
from provider_helper.retry import RetryPolicy
from provider_helper.transport import Resolver

NAME = "helm.example.test"  # not loopback by its spelling; a hosts entry (the tests' DNS) puts it on 127.0.0.1


def test_a_credential_never_travels_in_plain_http_to_a_host_that_is_not_loopback_or_insecure(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """README Security: "Credentials travel only over TLS, or to a host spoken to in plain HTTP anyway
    (loopback, or named with --insecure-registry)." A plain-HTTP Helm repository that answers 401 under a
    name that is neither (127.0.0.2 would not do: 127.0.0.0/8 is loopback) gets no credential; named with
    --insecure-registry it gets one. No traffic leaves this machine: the name resolves through a pinned
    Resolver entry, not DNS."""
    assert not is_loopback(NAME)
    server = ScriptedServer("127.0.0.1", lambda *_: Reply(401, {"WWW-Authenticate": 'Basic realm="charts"'}))
    servers.append(server)
    port = server.host.rpartition(":")[2]
    host = f"{NAME}:{port}"
    monkeypatch.setattr(http, "client", functools.partial(http.client, resolver=Resolver({NAME: ["127.0.0.1"]})))
    for proxy in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    store = CredentialStore(env={}, explicit={host: StaticCredential(Credential("robot", "s3cret-pw"))})
    url = f"http://{host}/index.yaml"

    def fetched(policy: OriginPolicy) -> list[str | None]:
        before = len(server.seen)
        fetcher = Fetcher(store, RetryPolicy(attempts=1), policy=policy)
        try:
            with pytest.raises(RegistryError):
                fetcher.get(url, 1 << 20, owner=f"http://{host}")
        finally:
            fetcher.close()
        return [seen.headers.get("authorization") for seen in server.seen[before:]]

    assert fetched(OriginPolicy()) == [None], "one anonymous request and no credential after the 401"
    insecure = fetched(OriginPolicy(insecure_hosts=frozenset({host})))
    assert len(insecure) == 2 and insecure[0] is None and (insecure[1] or "").startswith("Basic "), insecure


def _helm_repo(servers: list[Any], status_without_auth: int) -> ScriptedServer:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "authorization" not in headers and status_without_auth != 200:
            return Reply(status_without_auth, {"WWW-Authenticate": 'Basic realm="helm"'})
        return Reply(200, {}, b"apiVersion: v1\nentries: {}\n")

    server = ScriptedServer("127.0.0.2", route)
    servers.append(server)
    return server


def _fetcher(server: ScriptedServer) -> Fetcher:
    store = CredentialStore(env={"NGC_API_KEY": "nvapi-helm-key"}, ngc_hosts=frozenset({server.host}))
    return Fetcher(store, RetryPolicy(attempts=1))


def test_a_public_repository_is_read_anonymously_and_gets_no_credential(servers: list[Any]) -> None:
    """README: classic charts are fetched "anonymously first; NGC_API_KEY or an auth-file entry only when the
    server asks" (facts.md: a key not entitled to a public repository gets 403, so send none)."""
    server = _helm_repo(servers, 200)
    fetcher = _fetcher(server)
    try:
        assert fetcher.get(f"{server.url}/nvidia/index.yaml", 1024, owner=f"{server.url}/nvidia").startswith(b"api")
    finally:
        fetcher.close()
    assert len(server.seen) == 1 and server.authorizations() == []


def test_a_repository_that_asks_gets_the_credential_on_the_second_request(servers: list[Any]) -> None:
    server = _helm_repo(servers, 401)
    fetcher = _fetcher(server)
    try:
        fetcher.get(f"{server.url}/private/index.yaml", 1024, owner=f"{server.url}/private")
    finally:
        fetcher.close()
    assert [("authorization" in s.headers) for s in server.seen] == [False, True]
    assert server.authorizations()[0].startswith("Basic ")


def test_an_answer_past_its_bound_is_refused_and_one_at_it_is_taken(servers: list[Any]) -> None:
    body = b"x" * 1000
    server = ScriptedServer("127.0.0.2", lambda me, m, p, h: Reply(200, {}, body))
    servers.append(server)
    fetcher = _fetcher(server)
    try:
        assert fetcher.get(f"{server.url}/r/index.yaml", 1000, owner=f"{server.url}/r") == body
        with pytest.raises(RegistryError, match="larger than 999 bytes"):
            fetcher.get(f"{server.url}/r/index.yaml", 999, owner=f"{server.url}/r")
    finally:
        fetcher.close()
