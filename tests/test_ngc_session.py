"""provider_helper/ngc_session.py: the NGC API's authenticated JSON requests, as ngcsdk makes them. Every
key shape (personal, legacy, none) and every refusal shape (anonymous refused with 401 or 403, a key refused
by the token service with 401 or 403, a personal key refused by the API), each refusal asserted as the whole
line it is: naming NGC_API_KEY and the organisation the key must belong to. Scripted servers stand in
where a shape is the point (a token service that expires a token early, a 403 from the token service)."""

from __future__ import annotations

import json
import secrets
import types
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import readme_text
from hostile import Reply, ScriptedServer

from provider_helper import tokens
from provider_helper.artifacts import ResourceRef
from provider_helper.errors import InputError, LicenceError, NotFoundError, RegistryError
from provider_helper.ngc_listing import NgcListing
from provider_helper.ngc_session import MAX_TOKEN_BYTES, RENEW_MARGIN
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.ngcserver import NgcStandIn

REF = ResourceRef("0833294136851237", "nvcf-onprem", "nvcf-base", "0.1.4")
JSON = {"Content-Type": "application/json"}


def _recipe() -> Reply:
    return Reply(200, JSON, json.dumps({"recipe": {"latestVersionIdStr": "0.1.4"}}).encode())


def _api(servers: list[Any], route: Any) -> ScriptedServer:
    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    return api


def _session(key: str | None, api: ScriptedServer) -> NgcListing:
    return NgcListing(key, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))


@pytest.mark.parametrize("status", [401, 403])
def test_an_anonymous_request_refused_asks_for_ngc_api_key_naming_the_organisation(
    servers: list[Any], status: int
) -> None:
    api = _api(servers, lambda me, method, path, headers: Reply(status, JSON, b"{}"))
    with closing(_session(None, api)) as session, pytest.raises(InputError) as refused:
        session.latest_version(REF)
    assert str(refused.value) == (
        f"{api.host.split(':')[0]} refused an anonymous request for {REF} and NGC_API_KEY is not set: "
        f"export NGC_API_KEY with an API key of the NGC organisation 0833294136851237"
    )
    assert api.authorizations() == [], "without a key nothing is sent but the request"


@pytest.mark.parametrize("status", [401, 403])
def test_a_legacy_key_the_token_service_refuses_is_one_line_naming_ngc_api_key_and_the_organisation(
    servers: list[Any], status: int
) -> None:
    api = _api(servers, lambda me, method, path, headers: Reply(status, JSON, b"{}"))
    key = "legacy-" + secrets.token_hex(8)
    with closing(_session(key, api)) as session, pytest.raises(InputError) as refused:
        session.latest_version(REF)
    line = str(refused.value)
    assert line == (
        f"authentication failed for {api.host.split(':')[0]}: NGC refused NGC_API_KEY for {REF}: it must be an API "
        f"key of the NGC organisation 0833294136851237"
    )
    assert key not in line
    assert [urlparse(s.path).path for s in api.seen] == ["/token"], "refused at the token service, nothing asked after"


def test_a_personal_key_the_api_refuses_is_the_same_line(servers: list[Any]) -> None:
    api = _api(servers, lambda me, method, path, headers: Reply(401, JSON, b"{}"))
    with closing(_session("nvapi-" + secrets.token_hex(8), api)) as session, pytest.raises(InputError) as refused:
        session.latest_version(REF)
    assert str(refused.value).endswith(
        f"NGC refused NGC_API_KEY for {REF}: it must be an API key of the NGC organisation 0833294136851237"
    )


def test_a_personal_key_is_the_bearer_token_and_no_token_is_exchanged(servers: list[Any]) -> None:
    key = "nvapi-" + secrets.token_hex(8)
    api = _api(servers, lambda me, method, path, headers: _recipe())
    with closing(_session(key, api)) as session:
        assert session.latest_version(REF) == "0.1.4"
    assert [urlparse(s.path).path for s in api.seen] == [
        "/v2/org/0833294136851237/team/nvcf-onprem/resources/nvcf-base"
    ]
    assert api.authorizations() == [f"Bearer {key}"]


def test_a_legacy_key_is_exchanged_for_the_organisation_and_team_scopes_as_ngcsdk_asks(servers: list[Any]) -> None:
    """facts.md: ``GET …/token?service=ngc&scope=group/ngc:<org>[&scope=group/ngc:<org>/<team>]``, Basic
    ``$oauthtoken:<key>``; the token it gives is then the Bearer."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if urlparse(path).path == "/token":
            return Reply(200, JSON, json.dumps({"token": "exchanged-token-1", "expires_in": 600}).encode())
        return _recipe()

    api = _api(servers, route)
    with closing(_session("legacy-" + secrets.token_hex(8), api)) as session:
        assert session.latest_version(REF) == "0.1.4"
    asked = parse_qs(urlparse(api.seen[0].path).query)
    assert asked == {
        "service": ["ngc"],
        "scope": ["group/ngc:0833294136851237", "group/ngc:0833294136851237/nvcf-onprem"],
    }
    assert api.seen[0].headers["authorization"].startswith("Basic ")
    assert api.seen[1].headers["authorization"] == "Bearer exchanged-token-1"


def test_a_resource_without_a_team_asks_for_the_organisation_scope_only(servers: list[Any]) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if urlparse(path).path == "/token":
            return Reply(200, JSON, json.dumps({"token": "t-org-only", "expires_in": 600}).encode())
        return _recipe()

    api = _api(servers, route)
    with closing(_session("legacy-" + secrets.token_hex(8), api)) as session:
        session.latest_version(ResourceRef("nvidia", None, "nvcf-cli", None))
    assert parse_qs(urlparse(api.seen[0].path).query)["scope"] == ["group/ngc:nvidia"]


def test_a_token_the_service_expired_early_is_renewed_once_after_a_401(servers: list[Any]) -> None:
    issued: list[str] = []

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if urlparse(path).path == "/token":
            issued.append(f"token-{len(issued)}")
            return Reply(200, JSON, json.dumps({"token": issued[-1], "expires_in": 600}).encode())
        if headers.get("authorization") == "Bearer token-0":
            return Reply(401, JSON, b"{}")  # expired before its time
        return _recipe()

    api = _api(servers, route)
    with closing(_session("legacy-" + secrets.token_hex(8), api)) as session:
        assert session.latest_version(REF) == "0.1.4"
    assert issued == ["token-0", "token-1"]


def test_the_renew_margin_is_the_300_seconds_ngcsdk_renews_before_expiry(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """facts.md: "the SDK renews 300 s before expiry". A 600 s token is reused 299 s on and renewed at 301 s
    (the cache's clock is set by hand; the servers keep the real one)."""
    assert RENEW_MARGIN == 300
    now = [5000.0]
    monkeypatch.setattr(tokens, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    issued: list[str] = []

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if urlparse(path).path == "/token":
            issued.append(f"token-{len(issued)}")
            return Reply(200, JSON, json.dumps({"token": issued[-1], "expires_in": 600}).encode())
        return _recipe()

    api = _api(servers, route)
    with closing(_session("legacy-" + secrets.token_hex(8), api)) as session:
        session.latest_version(REF)
        now[0] += 299
        session.latest_version(REF)
        assert issued == ["token-0"]
        now[0] += 2
        session.latest_version(REF)
        assert issued == ["token-0", "token-1"]


def test_a_version_whose_licence_is_not_accepted_is_the_readme_line_with_the_catalog_page() -> None:
    readme_text.said(r"\"accept the licence terms for … in the NGC catalog\"")
    ngc = NgcStandIn(personal_key="nvapi-" + secrets.token_hex(8), legacy_key=secrets.token_hex(8))
    ngc.resources["0833294136851237/nvcf-onprem/nvcf-base:0.1.4"] = {"f": b"1"}
    ngc.licence_required.add("0833294136851237/nvcf-onprem/nvcf-base")
    try:
        with closing(NgcListing(ngc.personal_key, ngc.url, ngc.url)) as session, pytest.raises(LicenceError) as refused:
            session.latest_version(REF)
    finally:
        ngc.close()
    assert str(refused.value) == (
        f"accept the licence terms for {REF} in the NGC catalog "
        "(https://catalog.ngc.nvidia.com/orgs/0833294136851237/teams/nvcf-onprem/resources/nvcf-base), then run again"
    )


def test_the_catalog_page_of_a_resource_without_a_team() -> None:
    assert (
        NgcListing.catalog_url(ResourceRef("nvidia", None, "nvcf-cli", "1"))
        == "https://catalog.ngc.nvidia.com/orgs/nvidia/resources/nvcf-cli"
    )


def test_a_resource_ngc_does_not_have_is_not_found_naming_the_host(servers: list[Any]) -> None:
    api = _api(servers, lambda me, method, path, headers: Reply(404, JSON, b"{}"))
    with closing(_session("nvapi-" + secrets.token_hex(8), api)) as session, pytest.raises(NotFoundError) as missing:
        session.latest_version(REF)
    assert str(missing.value) == f"NGC has no {REF} ({api.host.split(':')[0]} answered 404)"


def test_the_default_hosts_are_ngcs_own() -> None:
    session = NgcListing(None)
    try:
        assert session.api_url == "https://api.ngc.nvidia.com"
        assert session.authn_url == "https://authn.nvidia.com"
    finally:
        session.close()


def _token_answer(size: int) -> bytes:
    head = b'{"token": "sized-token", "expires_in": 600, "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_an_ngc_token_answer_is_read_up_to_the_1_mib_of_the_limits_table_and_refused_one_byte_past(
    servers: list[Any],
) -> None:
    """README Limits: "a token service's answer | 1 MiB" (NGC's authn service is one, as a registry's realm is)."""
    limit = readme_text.size(readme_text.limit("a token service's answer"))
    assert limit == MAX_TOKEN_BYTES
    for size, refused in ((limit, False), (limit + 1, True)):
        body = _token_answer(size)
        assert len(body) == size

        def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str], body: bytes = body) -> Reply:
            return Reply(200, JSON, body) if urlparse(path).path == "/token" else _recipe()

        api = _api(servers, route)
        with closing(_session("legacy-" + secrets.token_hex(8), api)) as session:
            if refused:
                with pytest.raises(RegistryError, match=f"NGC token from 127.0.0.2: the answer is larger than {limit}"):
                    session.latest_version(REF)
            else:
                assert session.latest_version(REF) == "0.1.4"
