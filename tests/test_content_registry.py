"""Unit tests of provider_helper/content/registry.py (RegistryClient): retries, rate limits, redirects,
mounts, TLS fallback, refused keys."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RateLimitError, RegistryError, TransientError
from provider_helper.oci.manifest import Descriptor
from provider_helper.registry.auth import parse_challenge
from provider_helper.registry.credentials import Credential, CredentialStore, StaticCredential
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.stack import Sandbox


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
