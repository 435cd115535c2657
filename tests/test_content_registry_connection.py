"""provider_helper/content/registry_connection.py: the connection to one registry host and its answers as error
kinds. Docker Hub's used-up pull limit is one line, the README's line whole, naming the host, the limit and its
window and what to do; it is retried only where Retry-After is within the policy's longest wait (at it: retried;
past it: not, and nothing more is asked of that host); another registry's limit names that registry; a 429 on a
write (ECR's PutImage quota) is a short wait, retried as usual. Loopback hosts are plain HTTP, the rest HTTPS.

The registries are scripted servers on loopback (a real registry has no pull limit to use up)."""

from __future__ import annotations

import functools
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from hostile import Reply, ScriptedServer
from readme_text import said
from testca import make_ca

from provider_helper import http
from provider_helper.content.registry import RegistryClient
from provider_helper.content.registry_connection import RegistryConnection, _limit_words
from provider_helper.errors import RateLimitError, RegistryError, TransientError
from provider_helper.oci.reference import is_loopback
from provider_helper.retry import RetryPolicy
from provider_helper.transport import Resolver

HUB_LIMIT = {
    "Content-Type": "application/json",
    "ratelimit-limit": "100;w=21600",
    "ratelimit-remaining": "0;w=21600",
}
HUB_BODY = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}'
MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'


def _server(servers: list[ScriptedServer], replies: list[Reply]) -> ScriptedServer:
    answers = iter(replies)
    server = ScriptedServer("127.0.0.1", lambda *_: next(answers))
    servers.append(server)
    return server


def test_docker_hubs_used_up_limit_is_the_readmes_line_whole_naming_the_host(servers: list[ScriptedServer]) -> None:
    quoted = said(r"\(`… (Docker Hub's pull rate limit is used up .*? --source-map docker\.io=MIRROR)`\)")[1]
    server = _server(servers, [Reply(429, HUB_LIMIT, HUB_BODY)])
    client = RegistryClient(server.host, upstream="docker.io", retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        with pytest.raises(RateLimitError) as refused:
            client.get_manifest("library/nats", "2.10.21-alpine")
        assert str(refused.value) == f"get manifest library/nats:2.10.21-alpine at {server.host} (Docker Hub): {quoted}"
        with pytest.raises(RateLimitError) as later:
            client.head_manifest("library/alpine", "3.20")
        assert str(later.value) == f"head manifest library/alpine:3.20 at {server.host}: not asked, {quoted}"
    finally:
        client.close()
    assert len(server.seen) == 1, "a used-up limit is asked once, never retried, and no later request is sent"


@pytest.mark.parametrize(("retry_after", "retried"), [("1", True), ("2", False)], ids=["at-the-bound", "past-it"])
def test_a_retry_after_at_the_policys_longest_wait_is_retried_and_one_past_it_is_not(
    servers: list[ScriptedServer], retry_after: str, retried: bool
) -> None:
    replies = [Reply(429, {**HUB_LIMIT, "Retry-After": retry_after}, HUB_BODY), Reply(200, {}, b"{}")]
    server = _server(servers, replies)
    policy = RetryPolicy(attempts=3, base_delay=0, max_retry_after=1.0)
    client = RegistryConnection(server.host, upstream="docker.io", retry=policy)
    try:
        if retried:
            assert client.ping() is True
        else:
            with pytest.raises(RateLimitError):
                client.ping()
    finally:
        client.close()
    assert len(server.seen) == (2 if retried else 1)


def test_another_registrys_used_up_limit_names_that_registry_and_its_login(servers: list[ScriptedServer]) -> None:
    server = _server(servers, [Reply(429, {"ratelimit-limit": "5000;w=3600"}, b"{}")])
    client = RegistryClient(server.host, upstream="ghcr.io", retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        with pytest.raises(RateLimitError) as refused:
            client.get_manifest("org/app", "1.0")
    finally:
        client.close()
    assert str(refused.value) == (
        f"get manifest org/app:1.0 at {server.host} (ghcr.io): ghcr.io's pull rate limit is used up (5000 pulls "
        "per 1 h): log in to ghcr.io for a higher limit, or read it through a mirror with --source-map ghcr.io=MIRROR"
    )


def test_a_429_on_a_write_is_retried_as_a_short_wait_not_a_used_up_limit(servers: list[ScriptedServer]) -> None:
    server = _server(
        servers,
        [Reply(429, {"Retry-After": "0", **HUB_LIMIT}, HUB_BODY), Reply(201, {"Docker-Content-Digest": ""}, b"")],
    )
    client = RegistryConnection(server.host, upstream="docker.io", retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        response = client._send("PUT", "/v2/org/app/manifests/1.0", expect={201}, what="put manifest", content=MANIFEST)
        assert response.status_code == 201
    finally:
        client.close()
    assert [s.method for s in server.seen] == ["PUT", "PUT"]


def test_a_pull_limit_without_retry_after_that_is_not_docker_hubs_is_a_transient_429(
    servers: list[ScriptedServer],
) -> None:
    """Any other 429 (ECR's Rate exceeded among them: no ratelimit-limit header, not Docker Hub) is retried."""
    server = _server(servers, [Reply(429, {"Retry-After": "0"}, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}')] * 3)
    client = RegistryConnection(server.host, retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        with pytest.raises(TransientError) as failed:
            client.ping()
    finally:
        client.close()
    assert not isinstance(failed.value, RateLimitError)
    assert len(server.seen) == 3, "retried up to the policy's attempts"


def test_loopback_hosts_are_plain_http_and_every_other_host_https() -> None:
    for host, scheme in [("127.0.0.1:5000", "http"), ("localhost:5000", "http"), ("registry.example", "https")]:
        connection = RegistryConnection(host)
        try:
            assert connection.base_url == f"{scheme}://{host}"
        finally:
            connection.close()


@pytest.mark.parametrize(
    ("limit", "remaining", "words"),
    [
        ("100;w=21600", "0;w=21600", " (100 pulls per 6 h, 0 left)"),
        ("5000;w=3600", None, " (5000 pulls per 1 h)"),
        ("60;w=90", "3", " (60 pulls per 90 s, 3 left)"),
        ("60", None, " (60 pulls)"),
        (None, None, ""),
    ],
    ids=["docker-hub", "hours", "seconds", "no-window", "no-header"],
)
def test_a_pull_limit_is_worded_from_its_headers(limit: str | None, remaining: str | None, words: str) -> None:
    assert _limit_words(limit, remaining) == words


def test_an_upload_without_a_location_or_one_leaving_tls_is_refused_in_one_line() -> None:
    connection = RegistryConnection("registry.example")
    try:
        request = httpx.Request("POST", "https://registry.example/v2/org/app/blobs/uploads/")
        with pytest.raises(RegistryError) as nowhere:
            connection._location(httpx.Response(202, request=request))
        assert str(nowhere.value) == "registry.example opened an upload without a Location header"
        plain = httpx.Response(202, headers={"Location": "http://storage.example/upload/1"}, request=request)
        with pytest.raises(RegistryError) as left:
            connection._location(plain)
        assert str(left.value) == ("registry.example sent an upload to http://storage.example: refusing to leave TLS")
        relative = httpx.Response(202, headers={"Location": "/v2/org/app/blobs/uploads/1?_state=x"}, request=request)
        assert connection._location(relative) == "https://registry.example/v2/org/app/blobs/uploads/1?_state=x"
    finally:
        connection.close()


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
