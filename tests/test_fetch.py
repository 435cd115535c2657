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
