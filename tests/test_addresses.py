"""The address policy where the connection is made (provider_helper/transport.py, issue 36): a URL a
public server names or redirects to never reaches a loopback, link-local, private or unspecified
address, however it is spelt or whatever name resolves there; loopback never goes through an
environment proxy; the head of an answer keeps to the answer clock; ECR tokens and plain-http token
realms go only where the user named.

No public address can be served on this machine. Two stand-ins, each said where it is used: a
MockTransport answering for a public name that resolves nowhere here (the policy still resolves every
target for real), or, for end-to-end runs on scripted servers, 127.0.0.2 declared public by patching
``transport.is_internal_address`` for that one address (every other loopback address stays internal).
"""

from __future__ import annotations

import ipaddress
import json
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import run_cli, tgz, write_manifest
from hostile import Reply, ScriptedServer, TrickleServer

from provider_helper import http as http_layer
from provider_helper.artifacts import ResourceRef
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import InputError, PolicyError, RegistryError
from provider_helper.ngc_api import NgcClient
from provider_helper.registry.credentials import Credential, StaticCredential
from provider_helper.retry import RetryPolicy

METADATA = "127.0.0.4"
SPELLINGS = ["2130706436", "0x7f000004", "127.4", "[::ffff:127.0.0.4]"]


def _public(monkeypatch: pytest.MonkeyPatch, address: str = "127.0.0.2") -> None:
    """Declare ``address`` a public one (the stand-in for a server on the internet)."""
    from provider_helper import transport

    real = transport.is_internal_address
    monkeypatch.setattr(transport, "is_internal_address", lambda a: a != ipaddress.ip_address(address) and real(a))


def _metadata() -> ScriptedServer:
    return ScriptedServer(METADATA, lambda *_: Reply(200, {}, b'{"AccessKeyId": "ASIA-SECRET"}'))


@pytest.mark.parametrize("host", [*SPELLINGS, "0", "localhost"])
def test_a_redirect_from_a_public_origin_to_any_spelling_or_name_of_an_internal_address_is_refused(host: str) -> None:
    """A MockTransport answers for the public origin; the redirect target is resolved for real, and
    ``localhost`` is a name from /etc/hosts: spelling it differently does not get past the policy."""
    asked: list[str] = []

    def public(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": f"https://{host}/latest/meta-data/"})

    with (
        closing(http_layer.client(transport=httpx.MockTransport(public), follow_redirects=True)) as client,
        pytest.raises(
            PolicyError, match=r"refusing the redirect from https://helm\.example\.com to .*: an internal address"
        ),
    ):
        client.get("https://helm.example.com/charts/app-1.0.0.tgz.prov")
    assert asked == ["https://helm.example.com/charts/app-1.0.0.tgz.prov"], "the internal target was never asked"


def test_a_redirect_between_public_names_and_from_an_internal_server_to_another_is_followed() -> None:
    from provider_helper.transport import Resolver

    def answer(request: httpx.Request) -> httpx.Response:
        return (
            httpx.Response(302, headers={"Location": "https://cdn.example.com/x"})
            if request.url.host == "helm.example.com"
            else httpx.Response(200)
        )

    resolver = Resolver({"helm.example.com": ["93.184.215.14"], "cdn.example.com": ["93.184.215.15"]})
    with closing(
        http_layer.client(transport=httpx.MockTransport(answer), follow_redirects=True, resolver=resolver)
    ) as client:
        assert client.get("https://helm.example.com/x").status_code == 200


@pytest.mark.parametrize("spelling", [*SPELLINGS, "localhost"])
def test_a_provenance_redirect_from_a_public_repository_never_reaches_the_metadata_service(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    """End to end on scripted servers: the chart repository (127.0.0.2, declared public) redirects the
    .prov to the metadata stand-in on 127.0.0.4 (or a name resolving to loopback), spelt every way."""
    _public(monkeypatch)
    metadata = _metadata()
    servers.append(metadata)
    port = metadata.host.rpartition(":")[2]
    host = "localhost" if spelling == "localhost" else spelling
    archive = tgz({"app/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\n"})
    repo = _chart_repo(
        archive, "charts/app-1.0.0.tgz", Reply(302, {"Location": f"http://{host}:{port}/latest/meta-data/iam/node"})
    )
    target = _recording_target()
    servers += [repo, target]
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{target.host}/p",
        "--retries",
        "1",
        "--result-file",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == 1, done.stderr
    assert metadata.seen == [], "the internal endpoint was never asked"
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert (
        f"refusing the redirect from {repo.url} to http://{host}:{port}/latest/meta-data/iam/node: an internal address"
        in error
    ), error
    assert [s for s in target.seen if s.method in ("PUT", "POST")] == [], "nothing of the chart was stored"


def test_a_chart_url_a_public_index_names_on_an_internal_address_is_never_fetched(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _public(monkeypatch)
    metadata = _metadata()
    repo = _chart_repo(
        b"unused", f"http://2130706436:{metadata.host.rpartition(':')[2]}/latest/meta-data/app-1.0.0.tgz"
    )
    target = _recording_target()
    servers += [metadata, repo, target]
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{target.host}/p",
        "--retries",
        "1",
        "--result-file",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == 1, done.stderr
    assert metadata.seen == [], "no blind GET reached the internal address"
    assert "an internal address (127.0.0.4)" in json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]


def test_an_ngc_pre_signed_url_on_an_internal_address_is_never_downloaded(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _public(monkeypatch)
    metadata = _metadata()
    port = metadata.host.rpartition(":")[2]

    def api(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": 30}
            }
        elif bare.endswith("/versions/1.0/files"):
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": 30}], "paginationInfo": {"totalPages": 1}}
        else:
            body = {
                "filepath": ["values.yaml"],
                "urls": [f"http://{METADATA}:{port}/latest/meta-data/x?X-Amz-Signature=s"],
                "paginationInfo": {"totalPages": 1},
            }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    server = ScriptedServer("127.0.0.2", api)
    servers += [metadata, server]
    with (
        closing(
            NgcClient("nvapi-key", api_url=server.url, authn_url=server.url, retry=RetryPolicy(attempts=1))
        ) as client,
        pytest.raises(
            PolicyError,
            match=rf"refusing the pre-signed URL from {server.url} to "
            rf"http://{METADATA}:{port}/latest/meta-data/x: an internal",
        ),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert metadata.seen == [] and not (tmp_path / "helm-values_v1.0" / "values.yaml").exists()


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(servers: list[Any]) -> None:
    """The pinned answer (a hosts entry standing in for DNS) is where the connection goes, with the URL's
    name in the Host header."""
    from provider_helper.transport import Resolver

    server = ScriptedServer("127.0.0.3", lambda *_: Reply(200, {}, b"ok"))
    servers.append(server)
    port = server.host.rpartition(":")[2]
    with closing(http_layer.client(resolver=Resolver({"registry.example": ["127.0.0.3"]}))) as client:
        assert client.get(f"http://registry.example:{port}/v2/").text == "ok"
    assert server.seen[0].headers["host"] == f"registry.example:{port}"


def test_a_plain_http_realm_of_a_loopback_or_insecure_registry_is_refused_off_its_host() -> None:
    """The registry names http://realm.example (not its host, not loopback): the auth-file password
    would cross the network in clear. A MockTransport answers for both hosts."""
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "realm.example":
            asked.append(request)
            return httpx.Response(200, json={"token": "t"})
        return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://realm.example/token"'})

    for client in (
        RegistryClient(
            "127.0.0.2:5000",
            credentials=StaticCredential(Credential("u", "secret")),
            transport=httpx.MockTransport(answer),
        ),
        RegistryClient(
            "harbor.internal",
            insecure=True,
            scheme="http",
            credentials=StaticCredential(Credential("u", "secret")),
            transport=httpx.MockTransport(answer),
        ),
    ):
        with closing(client), pytest.raises(RegistryError, match="refusing to send credentials without TLS"):
            client.get_manifest("org/app", "1.0")
    assert asked == []


def test_a_plain_http_realm_on_the_registrys_own_host_or_loopback_is_used(servers: list[Any]) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            return Reply(200, {"Content-Type": "application/json"}, b'{"token": "ok"}')
        if headers.get("authorization") != "Bearer ok":
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token"'})
        return Reply(200)

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    with closing(RegistryClient(registry.host, credentials=StaticCredential(Credential("u", "p")))) as client:
        assert client.ping()


def test_requests_to_a_loopback_registry_never_go_through_the_environments_proxy(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Docker, skopeo and Helm do: with HTTP_PROXY set, a loopback registry (and its Basic password)
    is spoken to directly; a host that is not loopback still goes through the proxy."""
    proxy = ScriptedServer("127.0.0.3", lambda *_: Reply(200, {}, b"via the proxy"))
    basic = {"WWW-Authenticate": 'Basic realm="r"'}
    registry = ScriptedServer(
        "127.0.0.2", lambda me, m, p, h: Reply(200) if h.get("authorization") else Reply(401, basic)
    )
    servers += [proxy, registry]
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with closing(RegistryClient(registry.host, credentials=StaticCredential(Credential("u", "secret")))) as client:
        assert client.ping()
    assert registry.seen and proxy.seen == [], "the loopback registry was spoken to directly"
    with closing(http_layer.client()) as client:
        assert client.get("http://charts.example/index.yaml").text == "via the proxy"
    assert [s.path for s in proxy.seen] == ["http://charts.example/index.yaml"]


def test_a_status_line_and_headers_that_trickle_are_given_up_like_a_stalled_body(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 50 ms never trips httpx's read timeout, which restarts with every byte; the answer
    clock (lowered here from 30 s and 1 KiB/s so the test takes a second) covers the head too."""
    server = TrickleServer("127.0.0.2", b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 400 + b"\r\n\r\n", 0.05)
    servers.append(server)
    monkeypatch.setattr(http_layer, "ANSWER_GRACE", 0.3)
    monkeypatch.setattr(http_layer, "MIN_ANSWER_RATE", 1000)
    started = time.monotonic()
    with (
        closing(RegistryClient(server.host, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(RegistryError, match="status line and headers arrive slower than"),
    ):
        client.get_manifest("org/app", "1.0")
    assert time.monotonic() - started < 5, "given up within the grace and a little more, not after the 20 s trickle"


def test_a_server_slow_to_begin_its_answer_is_waited_for_as_long_as_the_read_timeout(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock starts at the answer's first byte: a registry still finishing a large upload answers late,
    then at once, and is not cut off (waiting for the first byte is httpx's read timeout)."""
    body = b'{"name": "org/app", "tags": ["1.0"]}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server = TrickleServer("127.0.0.2", answer, 0.0, first_delay=1.0)
    servers.append(server)
    monkeypatch.setattr(http_layer, "ANSWER_GRACE", 0.3)
    monkeypatch.setattr(http_layer, "MIN_ANSWER_RATE", 1000)
    with closing(RegistryClient(server.host, retry=RetryPolicy(attempts=1))) as client:
        assert client.tags("org/app") == ["1.0"]


def test_an_ecr_token_goes_only_to_an_ecr_host_or_the_one_aws_endpoint_url_ecr_names() -> None:
    from provider_helper import targets

    assert targets.resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com/p", "ecr", None, None, None, {}).kind == "ecr"
    assert (
        targets.resolve("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/p", "ecr", None, None, None, {}).kind == "ecr"
    )
    local = {"AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:4566", "AWS_REGION": "us-east-1"}
    assert targets.resolve("127.0.0.1:5000/p", "ecr", None, None, None, local).kind == "ecr", (
        "the tests' moto and registry"
    )
    for typo in ("123456789012.dkr.ecr.us-east-1.amazonaws.co/p", "registry.example.com/p", "127.0.0.2:5000/p"):
        with pytest.raises(InputError, match="refusing to send it an ECR token"):
            targets.resolve(typo, "ecr", "us-east-1", None, None, local)


def test_an_ecr_target_on_a_look_alike_host_is_one_line_and_exit_2_before_any_request(
    servers: list[Any], tmp_path: Path
) -> None:
    lookalike = _recording_target()
    servers.append(lookalike)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{lookalike.host}/p",
        "--target-type",
        "ecr",
        "--aws-region",
        "us-east-1",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert (
        done.returncode == 2 and "refusing to send it an ECR token" in done.stderr and "Traceback" not in done.stderr
    ), done.stderr
    assert lookalike.seen == []


def _chart_repo(archive: bytes, chart_url: str, prov: Reply | None = None) -> ScriptedServer:
    """A classic Helm repository on 127.0.0.2 in plain HTTP whose index names ``chart_url`` for app 1.0.0."""
    import hashlib

    import yaml

    index = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "entries": {
                "app": [
                    {
                        "name": "app",
                        "version": "1.0.0",
                        "urls": [chart_url],
                        "digest": hashlib.sha256(archive).hexdigest(),
                    }
                ]
            },
        }
    ).encode()

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/index.yaml":
            return Reply(200, {}, index)
        if path.endswith(".tgz"):
            return Reply(200, {}, archive)
        if path.endswith(".prov") and prov is not None:
            return prov
        return Reply(404)

    return ScriptedServer("127.0.0.2", route)


def _recording_target() -> ScriptedServer:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST":
            return Reply(202, {"Location": "/upload/1"})
        return Reply(201) if method == "PUT" else Reply(200) if path == "/v2/" else Reply(404)

    return ScriptedServer("127.0.0.3", route)
