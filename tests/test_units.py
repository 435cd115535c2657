"""Small pure pieces: references, platforms, challenges, credentials, retry timing."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import InputError, RateLimitError, RegistryError, TransientError
from provider_helper.oci.manifest import Descriptor
from provider_helper.oci.reference import (
    Platform,
    is_loopback,
    parse_platform,
    parse_reference,
    parse_target,
)
from provider_helper.registry.challenge import parse_challenge, scopes_for
from provider_helper.registry.credentials import Credential, CredentialStore, StaticCredential
from provider_helper.retry import (
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)


def test_reference_parsing_keeps_registry_path_tag_and_digest() -> None:
    ref = parse_reference("nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0")
    assert (ref.registry, ref.repository, ref.tag, ref.name) == (
        "nvcr.io",
        "0833294136851237/nvcf-ncp-staging/nvcf-openbao",
        "2.5.1-nv-1.1.0",
        "nvcf-openbao",
    )
    pinned = parse_reference("127.0.0.1:5000/a/b:1@sha256:" + "a" * 64)
    assert pinned.registry == "127.0.0.1:5000" and pinned.reference == "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "text", ["Nvcf-openbao:1", "nvcr.io/UPPER/x:1", "nvcr.io/a/b:bad tag", "nvcr.io/a/b@sha256:xyz", "nvcr.io/a/b"]
)
def test_bad_references_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)


def test_target_naming_puts_prefix_between_registry_and_name() -> None:
    target = parse_target("123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster")
    assert (
        str(target.reference("nvcf-openbao", "2.5.1"))
        == "123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster/nvcf-openbao:2.5.1"
    )
    with pytest.raises(InputError):
        parse_target("host/Bad Prefix")


def test_platform_matching_treats_arm64_v8_as_arm64() -> None:
    assert parse_platform("linux/arm64").matches("linux", "arm64", "v8")
    assert parse_platform("linux/arm64/v8").matches("linux", "arm64", None)
    assert not parse_platform("linux/arm/v7").matches("linux", "arm", "v6")
    assert not Platform("linux", "amd64").matches("linux", "arm64", None)
    with pytest.raises(InputError):
        parse_platform("amd64")


def test_loopback_hosts_are_recognised_with_and_without_ports() -> None:
    assert (
        is_loopback("127.0.0.1:5000")
        and is_loopback("localhost")
        and is_loopback("[::1]:5000")
        and is_loopback("127.8.9.1")
    )
    assert not is_loopback("nvcr.io") and not is_loopback("10.0.0.1:5000")


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


def _docker_config(tmp_path: Path, body: dict[str, Any]) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(body))
    return {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}


def test_credentials_come_from_ngc_key_auth_file_and_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "docker-credential-fake"
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "helped.example.com" ] || exit 1\necho \'{"Username":"robot","Secret":"from-helper"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path('/usr/bin')}:{Path('/bin')}")
    auth = base64.b64encode(b"user:pass").decode()
    env = _docker_config(
        tmp_path,
        {"auths": {"https://harbor.example.com": {"auth": auth}}, "credHelpers": {"helped.example.com": "fake"}},
    )
    store = CredentialStore(env={**env, "NGC_API_KEY": "nvapi-secret"})
    assert store.for_host("nvcr.io").get() == Credential("$oauthtoken", "nvapi-secret")
    assert store.for_host("harbor.example.com").get() == Credential("user", "pass")
    assert store.for_host("helped.example.com").get() == Credential("robot", "from-helper")
    assert store.for_host("other.example.com").get() is None
    assert "nvapi-secret" not in repr(store.for_host("nvcr.io").get())


@pytest.mark.parametrize("key", ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_is_found_under_each_key_docker_writes_and_a_mirror_uses_its_own_entry_else_its_upstreams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    helper = tmp_path / "docker-credential-hub"
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "https://index.docker.io/v1/" ] || exit 1\necho \'{"Username":"h","Secret":"from-helper"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path('/usr/bin')}:{Path('/bin')}")
    hub, own = base64.b64encode(b"hubuser:hubpass").decode(), base64.b64encode(b"cache:cachepass").decode()
    env = _docker_config(tmp_path, {"auths": {key: {"auth": hub}, "cache.internal:5000": {"auth": own}}})
    store = CredentialStore(env=env, upstreams={"mirror.internal": "docker.io", "cache.internal:5000": "docker.io"})
    assert store.for_host("registry-1.docker.io").get() == Credential("hubuser", "hubpass")
    assert store.for_host("mirror.internal").get() == Credential("hubuser", "hubpass"), (
        "a mirror without an entry of its own: its upstream's"
    )
    assert store.for_host("cache.internal:5000").get() == Credential("cache", "cachepass"), "a mirror's own entry first"
    assert store.for_host("quay.io").get() is None
    (tmp_path / "h").mkdir()
    helped = CredentialStore(env=_docker_config(tmp_path / "h", {"credHelpers": {key: "hub"}}))
    assert helped.for_host("registry-1.docker.io").get() == Credential("h", "from-helper"), (
        "a helper is asked for https://index.docker.io/v1/"
    )


def test_the_lines_for_a_missing_or_refused_credential_name_what_to_provide_at_nvcr_io_and_docker_hub() -> None:
    keyed = CredentialStore(env={"NGC_API_KEY": "nvapi-x"})
    assert str(keyed.rejected("nvcr.io", ["nvidia"])) == (
        "authentication failed for nvcr.io (NGC_API_KEY was refused: it must be an API key "
        "of the NGC organisation nvidia with access to its registry)"
    )
    bare = CredentialStore(env={})
    assert str(bare.missing("nvcr.io", ["nvidia"])) == (
        "nvcr.io asks for credentials and NGC_API_KEY is not set: export NGC_API_KEY with an "
        "API key of the NGC organisation nvidia (a Personal API key with access to its registry)"
    )
    assert str(bare.missing("registry-1.docker.io")).endswith(
        "(DOCKER_CONFIG, REGISTRY_AUTH_FILE) (Docker Hub: the entry https://index.docker.io/v1/)"
    )
    assert "Docker Hub" not in str(bare.missing("quay.io"))


def test_retry_after_is_honoured_then_backoff_is_bounded() -> None:
    sleeps: list[float] = []
    calls = iter([TransientError("429", status=429, retry_after=7), TransientError("503", status=503), "ok"])

    def operation() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, str)
        return item

    assert (
        call_with_retries(operation, RetryPolicy(attempts=5, base_delay=0.5, max_delay=2), "op", sleep=sleeps.append)
        == "ok"
    )
    assert sleeps[0] == 7 and 0 <= sleeps[1] <= 1.0
    assert parse_retry_after("12") == 12 and parse_retry_after(None) is None


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
    ``TOOMANYREQUESTS`` (without the header) is a short wait. A mocked transport: a real registry does not answer 429 on demand."""
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


def test_rate_limiter_holds_manifest_puts_to_the_quota() -> None:
    from provider_helper.registry.ratelimit import RateLimiter

    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        limiter()
    assert 1.9 <= now[0] <= 2.1, "30 calls at 10/s with a burst of 10 take two seconds"


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


# -- documented behaviours (tests/BEHAVIOURS.md) ---------------------------------------------------


def test_an_auth_file_password_containing_colons_is_kept_whole(tmp_path: Path) -> None:
    """Docker splits an auth entry at the first ':' only: the rest, colons included, is the password."""
    auth = base64.b64encode(b"robot$ci:pa:ss:word").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"harbor.example:8443": {"auth": auth}}}))
    credential = CredentialStore({"DOCKER_CONFIG": str(tmp_path)}).for_host("harbor.example:8443").get()
    assert credential == Credential("robot$ci", "pa:ss:word")


def test_secrets_passed_to_a_log_call_as_arguments_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from provider_helper.progress import setup_logging
    from provider_helper.redact import remember

    secret = "nvapi-" + "s3cr3t" * 4
    remember(secret)
    setup_logging()
    try:
        logging.getLogger("nvcf-mirror").warning("token service answered for %s: %r", "nvcr.io", {"key": secret})
        logging.getLogger("nvcf-mirror").warning("key %s", secret)
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert secret not in err and err.count("<redacted>") == 2, err


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


def test_the_result_document_keeps_every_documented_field_error_null_included() -> None:
    from provider_helper.results import ArtifactResult, document

    copied = ArtifactResult(
        key="image:app:1",
        type="image",
        group="g",
        source="nvcr.io/o/app:1",
        target="h/p/app:1",
        digest="sha256:" + "a" * 64,
        platforms=["linux/amd64"],
        status="copied",
        bytes_copied=5,
    )
    failed = ArtifactResult(
        key="image:b:1",
        type="image",
        group="g",
        source="nvcr.io/o/b:1",
        target="h/p/b:1",
        status="failed",
        error="boom",
    )
    doc = json.loads(json.dumps(document("h/p", [copied, failed], 1.25)))
    assert doc["version"] == 1 and doc["target"] == "h/p"
    documented = {
        "key",
        "type",
        "group",
        "source",
        "target",
        "digest",
        "platforms",
        "status",
        "bytes_copied",
        "error",
        "signatures_copied",
        "bytes_to_copy",
    }
    assert set(doc["artifacts"][0]) == documented and doc["artifacts"][0]["error"] is None
    assert doc["artifacts"][1]["digest"] is None and doc["artifacts"][1]["error"] == "boom"
    assert doc["summary"] == {
        "copied": 1,
        "present": 0,
        "failed": 1,
        "planned": 0,
        "bytes_copied": 5,
        "seconds": 1.25,
        "signatures_copied": 0,
        "bytes_to_copy": 0,
    }


@pytest.mark.parametrize("text", ["1.0\n", "1.0\r", "\u0661.\u0660", "v1.0\u00a0", "a" * 129])
def test_tags_and_digests_are_ascii_whole_strings(text: str) -> None:
    from provider_helper.mirror.versions import version_key
    from provider_helper.oci.reference import is_tag

    assert not is_tag(text) and version_key(text) is None
    with pytest.raises(InputError):
        parse_reference(f"nvcr.io/org/app:{text}")
    with pytest.raises(InputError):
        parse_reference("nvcr.io/org/app@sha256:" + "a" * 64 + "\n")
    assert is_tag("v1.0_rc-1.2") and version_key("v1.2.3-rc.1") is not None


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


def test_aws_region_names_the_region_of_an_ecr_target_whose_host_names_none() -> None:
    from provider_helper import targets

    local = {
        "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:4566"
    }  # an ECR target off the ECR form: the endpoint's host (issue 36)
    assert (
        targets.resolve("127.0.0.1:5000/p", "ecr", "eu-west-1", None, None, {**local, "AWS_REGION": "us-east-1"}).region
        == "eu-west-1"
    )
    assert (
        targets.resolve("127.0.0.1:5000/p", "ecr", None, None, None, {**local, "AWS_REGION": "us-east-1"}).region
        == "us-east-1"
    )
    with pytest.raises(InputError, match="use --aws-region or AWS_REGION"):
        targets.resolve("127.0.0.1:5000/p", "ecr", None, None, None, local)
    host = targets.resolve(
        "123456789012.dkr.ecr.ap-south-1.amazonaws.com/p", "auto", None, None, None, {"AWS_REGION": "us-east-1"}
    )
    assert host.region == "ap-south-1", "the host's own region comes before AWS_REGION"
