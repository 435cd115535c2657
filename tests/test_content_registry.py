"""Unit tests of provider_helper/content/registry.py (RegistryClient): retries, rate limits, redirects,
mounts, TLS fallback, refused keys; keys stay with their registry and answers stay bounded.

Hostile or faulty registries are ScriptedServers on their own loopback addresses (127.0.0.2, .3, .4), so a
storage host and a token realm are really other hosts; a mocked transport only where a test says why."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import sha256
from hostile import Reply, ScriptedServer, hung_up
from testca import make_ca

from provider_helper import http as http_layer
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RateLimitError, RegistryError, TransientError
from provider_helper.oci.manifest import Descriptor
from provider_helper.registry.challenge import parse_challenge
from provider_helper.registry.credentials import Credential, CredentialStore, StaticCredential
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.stack import Sandbox

CANARY = "nvapi-CANARY" + secrets.token_hex(8)


def test_client_retries_429_with_retry_after_and_gives_up_after_budget() -> None:
    # A mocked transport: a real registry does not answer 429 on demand. Fault injection only.
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(503), httpx.Response(200, json={})]
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return next(answers)

    client = RegistryClient(
        "127.0.0.1:1", transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=3, base_delay=0.01)
    )
    assert client.ping() is True
    assert len(seen) == 3
    failing = RegistryClient(
        "127.0.0.1:1",
        transport=httpx.MockTransport(lambda r: httpx.Response(503)),
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )
    with pytest.raises(TransientError):
        failing.head_manifest("a/b", "1")


def test_a_429_toomanyrequests_from_a_registry_other_than_docker_hub_is_retried_as_usual() -> None:
    """Only Docker Hub's code, or a ``ratelimit-limit`` header, means a used-up pull limit: ECR's and others'
    ``TOOMANYREQUESTS`` (without the header) is a short wait. A mocked transport: a real registry does not
    answer 429 on demand."""
    answers = iter(
        [
            httpx.Response(429, json={"errors": [{"code": "TOOMANYREQUESTS", "message": "Rate exceeded"}]}),
            httpx.Response(404),
        ]
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return next(answers)

    client = RegistryClient(
        "127.0.0.1:1", transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=3, base_delay=0.01)
    )
    assert client.head_manifest("a/b", "1") is None and seen == ["HEAD", "HEAD"]
    hub = RegistryClient(
        "127.0.0.1:1",
        upstream="docker.io",
        retry=RetryPolicy(attempts=3, base_delay=0.01),
        transport=httpx.MockTransport(lambda r: httpx.Response(429, json={"errors": [{"code": "TOOMANYREQUESTS"}]})),
    )
    with pytest.raises(RateLimitError, match="Docker Hub's pull rate limit is used up: log in to Docker Hub"):
        hub.head_manifest("library/nats", "1")


def test_blob_redirect_to_storage_does_not_carry_authorization() -> None:
    # A mocked transport: Distribution with filesystem storage never redirects blob GETs, S3-backed registries do.
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "storage.example.com":
            return httpx.Response(200, content=b"layer-bytes")
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(307, headers={"Location": "https://storage.example.com/blob?X-Amz-Signature=abc"})

    store = CredentialStore(env={"NGC_API_KEY": "nvapi-secret"}, ngc_hosts=frozenset({"127.0.0.1:1"}))
    client = RegistryClient(
        "127.0.0.1:1", credentials=store.for_host("127.0.0.1:1"), transport=httpx.MockTransport(handler)
    )
    client.auth._challenge = parse_challenge('Basic realm="r"')  # as learned from a ping
    with client.open_blob("org/app", "sha256:" + "a" * 64) as chunks:
        assert b"".join(chunks) == b"layer-bytes"
    registry_get, storage_get = seen
    assert registry_get.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in storage_get.headers


def test_mount_answered_with_202_falls_back_to_the_upload_it_opened() -> None:
    # A mocked transport: ECR answers a mount with 202 (upload opened) when the account has not enabled mounting;
    # no real registry here can be told to refuse mounts.
    data = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.method == "POST":
            assert request.url.params["mount"] == digest and request.url.params["from"] == "p/base"
            return httpx.Response(202, headers={"Location": "/v2/p/app/blobs/uploads/u1?_state=s"})
        assert request.url.params["digest"] == digest and request.read() == data
        return httpx.Response(201)

    client = RegistryClient("127.0.0.1:1", transport=httpx.MockTransport(handler))
    assert client.mount_blob("p/app", digest, "p/base") is False
    client.put_blob("p/app", Descriptor("application/octet-stream", digest, len(data)), [data])
    assert seen == [("POST", "/v2/p/app/blobs/uploads/"), ("PUT", "/v2/p/app/blobs/uploads/u1")], (
        "the opened upload is used, not a second one"
    )


def test_insecure_registry_tries_tls_without_verification_then_plain_http() -> None:
    # A mocked transport: a plain-HTTP server on a non-loopback name cannot be reached from the test machine.
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.scheme)
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return httpx.Response(200)

    client = RegistryClient("registry.internal:5000", insecure=True, transport=httpx.MockTransport(handler))
    assert client.ping() is True
    assert seen == ["https", "http"] and client.base_url == "http://registry.internal:5000"
    strict = RegistryClient("registry.internal:5000", transport=httpx.MockTransport(handler))
    with pytest.raises(RegistryError, match=r"TLS to registry\.internal:5000 failed"):
        strict.ping()


def test_a_rejected_key_is_not_part_of_the_error_in_process(sandbox: Sandbox) -> None:
    from provider_helper.content.registry import RegistryClient
    from provider_helper.errors import AuthenticationError

    wrong = "nvapi-WRONG" + os.urandom(12).hex()
    client = RegistryClient(sandbox.source.host, credentials=StaticCredential(Credential("$oauthtoken", wrong)))
    try:
        with pytest.raises(AuthenticationError) as raised:
            client.ping(["repository:x/y:pull"])
    finally:
        client.close()
    assert wrong not in str(raised.value) and wrong[6:] not in str(raised.value)


def test_a_plain_http_realm_named_by_a_tls_registry_gets_no_credentials() -> None:
    """A registry reached over verified TLS that names an http:// realm: the key would cross the network in
    clear. Only a non-loopback registry name can show this and no such name resolves on this machine, so the
    registry's answers come from a MockTransport; the realm host records whether it was asked."""
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "realm.example":
            asked.append(request)
            return httpx.Response(200, json={"token": "t"})
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://realm.example/token"'})

    client = RegistryClient(
        "registry.example",
        credentials=StaticCredential(Credential("$oauthtoken", CANARY)),
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(RegistryError, match="refusing to send credentials without TLS"):
        client.get_manifest("org/app", "1.0")
    assert asked == []


def test_an_upload_location_that_leaves_tls_is_refused(servers: list[Any], tmp_path: Path) -> None:
    plain = ScriptedServer("127.0.0.3", lambda *_: Reply(201))
    ca = make_ca(tmp_path / "ca")

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST":
            return Reply(202, {"Location": f"{plain.url}/upload/1"})
        return Reply(200)

    registry = ScriptedServer("127.0.0.1", route, tls=ca.server_context())
    servers += [plain, registry]
    client = RegistryClient(
        registry.host, scheme="https", ca_file=str(ca.ca), credentials=StaticCredential(Credential("u", CANARY))
    )
    with pytest.raises(RegistryError, match="refusing to leave TLS"):
        client.start_upload("org/app")
    assert plain.seen == []


def test_a_huge_token_answer_is_refused_while_it_streams(servers: list[Any]) -> None:
    """A token service answering 64 MiB: reading stops at 1 MiB, the rest is never fetched."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            return Reply(200, {"Content-Type": "application/json"}, b" " * (1024 * 1024), repeat=64)
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token"'})

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    with (
        closing(RegistryClient(registry.host)) as client,
        pytest.raises(RegistryError, match=r"token from 127\.0\.0\.2 .*larger than 1048576 bytes"),
    ):
        client.head_manifest("org/app", "1.0")
    assert hung_up(registry), "the client hung up: the body was not read to its end"


def test_a_huge_answer_to_a_blob_upload_is_refused_while_it_streams(servers: list[Any]) -> None:
    """The answer to the upload's PUT (and to its cancelling DELETE) is read within 64 KiB like every other."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST":
            return Reply(202, {"Location": "/v2/org/app/blobs/uploads/u1"})
        return Reply(201, {"Content-Type": "text/plain"}, b" " * (1024 * 1024), repeat=64)

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    data = b"layer"
    blob = Descriptor("application/octet-stream", sha256(data), len(data))
    with (
        closing(RegistryClient(registry.host)) as client,
        pytest.raises(RegistryError, match=r"upload blob .*larger than 65536 bytes"),
    ):
        client.put_blob("org/app", blob, [data])
    assert hung_up(registry), "the client hung up: the body was not read to its end"


def _endless_tag_list(per_page: int):  # type: ignore[no-untyped-def]
    """A registry whose tag list never ends: every page names ``per_page`` new tags and a next page."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        page = int(path.rpartition("page=")[2]) if "page=" in path else 0
        tags = [f"t{page}-{i}" for i in range(per_page)]
        link = f'</v2/org/app/tags/list?n=1000&page={page + 1}>; rel="next"'
        return Reply(
            200,
            {"Content-Type": "application/json", "Link": link},
            json.dumps({"name": "org/app", "tags": tags}).encode(),
        )

    return route


@pytest.mark.parametrize(
    ("per_page", "refused", "pages"), [(1, "more than 20 pages", 20), (30_000, "more than 100000 entries", 4)]
)
def test_a_tag_list_that_never_ends_is_refused_not_cut_short(
    servers: list[Any], per_page: int, refused: str, pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut short, the list would hide cosign tags; read to its end, it would page forever or fill memory.
    The page bound is lowered to 20 here: the real one (1000) would take this scripted server 40 s."""
    monkeypatch.setattr(http_layer, "MAX_PAGES", 20)
    registry = ScriptedServer("127.0.0.2", _endless_tag_list(per_page))
    servers.append(registry)
    with pytest.raises(RegistryError, match=f"list tags of org/app: {refused}"):
        RegistryClient(registry.host).tags("org/app")
    assert len(registry.seen) == pages


def test_a_tag_list_of_huge_entries_is_refused_by_its_bytes_long_before_its_page_bound(servers: list[Any]) -> None:
    """One 3 MiB "tag" per page: by count it is 1000 pages (3 GiB) before the page bound; by bytes it
    stops at 16 MiB, and no entry longer than a tag is ever kept."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        page = int(path.rpartition("page=")[2]) if "page=" in path else 0
        link = f'</v2/org/app/tags/list?n=1000&page={page + 1}>; rel="next"'
        return Reply(
            200,
            {"Content-Type": "application/json", "Link": link},
            json.dumps({"name": "org/app", "tags": ["9" * (3 << 20)]}).encode(),
        )

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    with (
        closing(RegistryClient(registry.host)) as client,
        pytest.raises(RegistryError, match="list tags of org/app: more than 16 MiB"),
    ):
        client.tags("org/app")
    assert len(registry.seen) == 6


def test_a_source_that_trickles_its_answer_is_given_up_not_waited_for(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 50 ms never trips httpx's read timeout; the answer's average rate does. The grace
    and rate are lowered here (30 s and 1 KiB/s by default) so the test takes a second."""

    def trickle(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, b"{", repeat=200)

    registry = ScriptedServer("127.0.0.2", trickle, chunk_delay=0.05)
    servers.append(registry)
    monkeypatch.setattr(http_layer, "ANSWER_GRACE", 0.3)
    monkeypatch.setattr(http_layer, "MIN_ANSWER_RATE", 1000)
    started = time.monotonic()
    with (
        closing(RegistryClient(registry.host)) as client,
        pytest.raises(RegistryError, match=r"get manifest org/app:1\.0: the answer arrives at .* slower than"),
    ):
        client.get_manifest("org/app", "1.0")
    assert time.monotonic() - started < 5, "given up within the grace and a little more, not after 200 trickled bytes"


def test_a_blob_that_trickles_is_given_up_as_stalled_and_a_slow_moving_one_is_not(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob stream is checked at every network read against a minimum rate over a window (16 KiB/s over
    60 s by default, NVCF_MIRROR_MIN_BLOB_RATE and _BLOB_RATE_WINDOW): lowered here so the test takes a second."""

    def blob(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        # 100 bytes every 20 ms: 5 KB/s
        return Reply(200, {"Content-Type": "application/octet-stream"}, b"x" * 100, repeat=200)

    registry = ScriptedServer("127.0.0.2", blob, chunk_delay=0.02)
    servers.append(registry)
    monkeypatch.setenv("NVCF_MIRROR_BLOB_RATE_WINDOW", "0.5")
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "20000")
    started = time.monotonic()
    stalled = pytest.raises(
        TransientError, match=r"get blob org/app@sha256:.*slower than 20 KiB/s: the stream is stalled"
    )
    with (
        closing(RegistryClient(registry.host)) as client,
        stalled,
        client.open_blob("org/app", "sha256:" + "0" * 64) as chunks,
    ):
        for _ in chunks:
            pass
    assert time.monotonic() - started < 3, "given up after a window, not after the whole trickle"
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "1000")  # the same stream is fast enough for this floor
    with closing(RegistryClient(registry.host)) as client, client.open_blob("org/app", "sha256:" + "0" * 64) as chunks:
        assert b"".join(chunks) == b"x" * 20_000


HUB_LIMIT = {
    "Content-Type": "application/json",
    "ratelimit-limit": "100;w=21600",
    "ratelimit-remaining": "0;w=21600",
}
HUB_BODY = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}'


def test_a_retry_after_past_the_policys_longest_wait_is_not_waited_for(servers: list[Any]) -> None:
    """README: "It is retried only where the answer carries a Retry-After within the retry policy's longest
    wait (120 s); otherwise nothing more is asked of that registry in the run". A Docker Hub stand-in (a
    scripted server read as docker.io's mirror) answers 429 with Retry-After: 3600: the call fails within a
    few seconds, asked once, and a second call is not sent. Bounded by a worker thread, so a client that
    waits fails this test at once rather than after minutes."""
    server = ScriptedServer("127.0.0.1", lambda *_: Reply(429, {**HUB_LIMIT, "Retry-After": "3600"}, HUB_BODY))
    servers.append(server)
    client = RegistryClient(server.host, upstream="docker.io")
    outcome: list[BaseException | None] = []

    def first_call() -> None:
        try:
            client.get_manifest("library/nats", "2.10.22")
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 (the outcome, whatever it is, is what the test asserts)
            outcome.append(exc)

    # A daemon thread: a client that waits (the mutant sleeps 120 s per retry) neither holds up this test
    # past its bound nor the interpreter's exit.
    worker = threading.Thread(target=first_call, daemon=True)
    try:
        started = time.monotonic()
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the client waited out a Retry-After beyond the policy's 120 s"
        assert time.monotonic() - started < 10
        (error,) = outcome
        assert isinstance(error, RateLimitError), error
        assert "Docker Hub's pull rate limit is used up (100 pulls per 6 h, 0 left)" in str(error)
        with pytest.raises(RateLimitError, match="not asked, Docker Hub's pull rate limit is used up"):
            client.get_manifest("library/nats", "2.10.21")
        assert [seen.method for seen in server.seen] == ["GET"], "asked once, never again"
    finally:
        client.close()


def test_a_tag_list_keeps_only_tags_and_follows_its_pages_on_the_same_registry(servers: list[Any]) -> None:
    """README Limits: "a paged listing ... a tag that is not a tag is dropped"; pages follow the Link header."""

    def route(server: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "last=" not in path:
            body = json.dumps({"tags": ["1.0", "bad tag", "-leading", "x" * 129, 7, "2.0"]}).encode()
            link = {"Link": '</v2/org/app/tags/list?n=1000&last=2.0>; rel="next"'}
            return Reply(200, {"Content-Type": "application/json", **link}, body)
        return Reply(200, {"Content-Type": "application/json"}, json.dumps({"tags": ["3.0\n", "3.0"]}).encode())

    server = ScriptedServer("127.0.0.1", route)
    servers.append(server)
    client = RegistryClient(server.host, retry=RetryPolicy(attempts=1))
    try:
        assert client.tags("org/app") == ["1.0", "2.0", "3.0"]
    finally:
        client.close()
    assert [s.path for s in server.seen] == ["/v2/org/app/tags/list?n=1000", "/v2/org/app/tags/list?n=1000&last=2.0"]
