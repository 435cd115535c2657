"""Unit tests of provider_helper/registry/auth.py: challenges, scopes, where credentials go, token lifetime."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from hostile import Reply, ScriptedServer

from provider_helper import http as http_layer
from provider_helper.content.registry import RegistryClient
from provider_helper.registry.auth import PREFETCH_BATCH, RegistryAuth
from provider_helper.registry.challenge import parse_challenge, scopes_for
from provider_helper.registry.credentials import Credential, StaticCredential, file_credential


def test_nvcr_challenge_without_service_is_parsed_as_given() -> None:
    challenge = parse_challenge('Bearer realm="https://nvcr.io/proxy_auth",scope="repository:a/b:pull"')
    assert challenge is not None
    assert (challenge.scheme, challenge.realm, challenge.service, challenge.scope) == (
        "bearer",
        "https://nvcr.io/proxy_auth",
        "",
        "repository:a/b:pull",
    )
    basic = parse_challenge('Basic realm="x"')
    assert basic is not None and basic.scheme == "basic"


def test_scopes_follow_method_and_mount_source() -> None:
    pull = httpx.Request("HEAD", "http://r/v2/org/team/app/manifests/1")
    push = httpx.Request("POST", "http://r/v2/p/app/blobs/uploads/?mount=sha256:1&from=p/base")
    assert scopes_for(pull) == ("repository:org/team/app:pull",)
    assert scopes_for(push) == ("repository:p/app:pull,push", "repository:p/base:pull")


def test_registry_credentials_go_only_to_the_registrys_own_scheme_host_and_port() -> None:
    from provider_helper.registry.auth import RegistryAuth

    with httpx.Client() as tokens:
        auth = RegistryAuth("registry.example:5000", StaticCredential(Credential("u", "p")), tokens, scheme="https")
        assert auth.on_registry(httpx.URL("https://registry.example:5000/v2/"))
        assert not auth.on_registry(httpx.URL("http://registry.example:5000/v2/")), (
            "the same host in plain HTTP is another origin"
        )
        assert not auth.on_registry(httpx.URL("https://registry.example:5001/v2/")) and not auth.on_registry(
            httpx.URL("https://storage.example/b")
        )


def test_a_bearer_token_past_its_lifetime_is_not_reused(servers: list[Any]) -> None:
    """The token service says each token lives 1 s: it is reused within that, and asked again after."""
    from hostile import Reply, ScriptedServer

    issued: list[str] = []

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            issued.append(f"t{len(issued) + 1}")
            return Reply(
                200, {"Content-Type": "application/json"}, json.dumps({"token": issued[-1], "expires_in": 1}).encode()
            )
        if headers.get("authorization", "").startswith("Bearer "):
            return Reply(200, {"Content-Type": "application/json"}, b'{"name": "a/b", "tags": ["1"]}')
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token",service="test"'})

    registry = ScriptedServer("127.0.0.1", route)
    servers.append(registry)
    client = RegistryClient(registry.host, credentials=StaticCredential(Credential("u", "password")))
    try:
        client.tags("a/b")
        client.tags("a/b")
        time.sleep(0.8)
        client.tags("a/b")
    finally:
        client.close()
    sent = [s.headers.get("authorization") for s in registry.seen if s.path.startswith("/v2/a/b/tags")]
    assert sent == [None, "Bearer t1", "Bearer t1", "Bearer t2"], sent
    assert issued == ["t1", "t2"]


def _config_with_identity_token(host: str, folder: Path) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps({"auths": {host: {"identitytoken": "refresh-me"}}}))
    return path


def test_an_identity_token_is_exchanged_as_docker_does(servers: list[Any], tmp_path: Path) -> None:
    """``identitytoken`` in config.json: POST grant_type=refresh_token to the realm, then use the access token."""
    forms: list[str] = []

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token") and method == "POST":
            forms.append(method)
            return Reply(200, {"Content-Type": "application/json"}, b'{"access_token": "granted"}')
        if headers.get("authorization") == "Bearer granted":
            return Reply(200)
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token",service="svc"'})

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    client = RegistryClient(
        registry.host,
        credentials=StaticCredential(
            file_credential(registry.host, [_config_with_identity_token(registry.host, tmp_path)])
        ),
    )
    assert client.ping() is True
    assert forms == ["POST"]


def test_a_run_that_knows_its_repositories_asks_one_token_per_25_of_them_and_caches_it_for_each(
    servers: list[Any],
) -> None:
    """registry/auth.py: "A run that knows its repositories up front asks for one token covering many of them"; one
    token request per PREFETCH_BATCH (25) scopes, which "keeps the token request's URL and the token itself a few KiB"
    (200 repositories: no request past 4 KiB), each scope's later requests using the cached token."""
    realm = ScriptedServer("127.0.0.1", lambda *_: Reply(200, {"Content-Type": "application/json"}, b'{"token":"t"}'))
    servers.append(realm)
    registry = "127.0.0.1:1"
    auth = RegistryAuth(registry, StaticCredential(None), http_layer.client(), plain_realm_ok=True)
    challenge = f'Bearer realm="{realm.url}/token",service="registry.example"'
    request = httpx.Request("GET", f"http://{registry}/v2/")
    assert auth.learn(httpx.Response(401, headers={"WWW-Authenticate": challenge}, request=request)) is not None
    scopes = [f"repository:nvidia/team/app-{i:03}:pull" for i in range(200)]
    assert auth.prefetch(scopes) is True
    asked = [httpx.URL(seen.path).params.get_list("scope") for seen in realm.seen]
    assert [len(batch) for batch in asked] == [PREFETCH_BATCH] * (200 // PREFETCH_BATCH)
    assert all(len(seen.path) <= 4096 for seen in realm.seen), "a token request past a few KiB"
    assert [s for batch in asked for s in batch] == scopes
    assert all(httpx.URL(seen.path).params["service"] == "registry.example" for seen in realm.seen)
    assert auth.prefetch(scopes) is True and len(realm.seen) == len(asked), "cached tokens are not asked for again"
