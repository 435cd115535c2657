"""Unit tests of provider_helper/registry/token_realm.py: where a token request may go and what its
refusals mean."""

from __future__ import annotations

import json
from typing import Any

import pytest
import readme_text
from hostile import Reply, ScriptedServer

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import LicenceError, RegistryError
from provider_helper.registry.challenge import Challenge
from provider_helper.registry.token_realm import MAX_TOKEN_BYTES, TokenRealm


def _realm(registry: str, plain_realm_ok: bool) -> TokenRealm:
    realm = object.__new__(TokenRealm)  # only the realm check is exercised: no client, no credentials
    realm.registry, realm.scheme, realm._plain_realm_ok = registry, None, plain_realm_ok
    return realm


def test_a_token_realm_must_be_https_for_a_registry_spoken_to_over_tls() -> None:
    """README Security: "A token realm must be `https`, unless the registry itself is loopback or named with
    `--insecure-registry` and the realm is on the registry's own host or on loopback"."""
    tls = _realm("registry.example", plain_realm_ok=False)
    assert tls._checked_realm(Challenge("bearer", "https://auth.example/token")) == "https://auth.example/token"
    for realm in ("http://registry.example/token", "http://127.0.0.1/token", "ftp://registry.example/t"):
        with pytest.raises(RegistryError, match="refusing to send credentials without TLS"):
            tls._checked_realm(Challenge("bearer", realm))
    plain = _realm("registry.example", plain_realm_ok=True)
    assert plain._checked_realm(Challenge("bearer", "http://registry.example/token"))
    with pytest.raises(RegistryError, match="without TLS"):
        plain._checked_realm(Challenge("bearer", "http://elsewhere.example/token"))


def test_a_412_from_the_token_endpoint_asks_to_accept_the_licence_terms(servers: list[Any]) -> None:
    """README NGC: "accept the licence terms for ... in the NGC catalog ... nvcr.io's 412 for an image says the
    same": the token endpoint's 412 is the licence line, not an access refusal."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            return Reply(412, {"Content-Type": "application/json"}, json.dumps({"detail": "terms"}).encode())
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token",service="test"'})

    registry = ScriptedServer("127.0.0.1", route)
    servers.append(registry)
    client = RegistryClient(registry.host)
    try:
        with pytest.raises(LicenceError, match=r"accept the licence terms for org/app in the NGC catalog"):
            client.tags("org/app")
    finally:
        client.close()


def test_a_token_answer_is_bounded_to_the_1_mib_of_the_limits_table() -> None:
    assert MAX_TOKEN_BYTES == readme_text.size(readme_text.limit("a token service's answer")) == 1024 * 1024
