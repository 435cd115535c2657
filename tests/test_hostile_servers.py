"""Hostile servers: keys stay with their registry, answers stay bounded.

Each server is a ScriptedServer on its own loopback address (127.0.0.2, .3, .4), so a storage
host and a token realm are really other hosts. The canary is a key no honest server asks for:
the tests assert where it never arrives.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import run_cli, sha256, tgz, write_manifest
from hostile import Reply, ScriptedServer
from testca import make_ca

from provider_helper import http as http_layer
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import DeniedError, RegistryError, TransientError
from provider_helper.manifest import ResourceRef
from provider_helper.ngc_api import NgcClient
from provider_helper.oci.manifest import Descriptor
from provider_helper.registry.credentials import Credential, StaticCredential, file_credential
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

CANARY = "nvapi-CANARY" + secrets.token_hex(8)
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def _image() -> tuple[bytes, dict[str, bytes]]:
    layer = os.urandom(1024)
    blobs = {sha256(CONFIG): CONFIG, sha256(layer): layer}
    body = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(CONFIG),
            "size": len(CONFIG),
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(layer), "size": len(layer)}
        ],
    }
    return json.dumps(body).encode(), blobs


def _manifest_route(manifest: bytes, storage: ScriptedServer | None = None, repeat: int = 1):  # type: ignore[no-untyped-def]
    """A token registry serving one image; blob downloads are redirected to ``storage``."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        challenge = {"WWW-Authenticate": f'Bearer realm="{me.url}/token",scope="repository:org/app:pull"'}
        if path.startswith("/token"):
            return Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": "registry-issued"}).encode())
        if headers.get("authorization") != "Bearer registry-issued":
            return Reply(401, challenge)
        if path == "/v2/":
            return Reply(200)
        if "/manifests/" in path:
            return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, manifest, repeat=repeat)
        if "/blobs/" in path and storage is not None:
            return Reply(307, {"Location": f"{storage.url}/bucket/{path.rsplit('/', 1)[-1]}?X-Signature=abc"})
        return Reply(404)

    return route


def _mirror(sandbox: Sandbox, tmp_path: Path, registry: str, ns: str, env: dict[str, str]) -> tuple[int, str, str]:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    result = tmp_path / "result.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        registry,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--retries",
        "1",
        "--result-file",
        str(result),
        env=env,
    )
    return done.returncode, done.stdout + done.stderr, result.read_text() if result.exists() else ""


def test_a_storage_host_that_challenges_never_receives_the_ngc_key(
    sandbox: Sandbox, servers: list[Any], tmp_path: Path, ns: str
) -> None:
    """nvcr.io and ECR redirect blob downloads to storage: a 401 from there names a realm on a third host."""
    realm = ScriptedServer(
        "127.0.0.4", lambda *_: Reply(200, {"Content-Type": "application/json"}, b'{"token": "stolen"}')
    )
    storage = ScriptedServer(
        "127.0.0.3", lambda me, *_: Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm.url}/steal",service="s"'})
    )
    manifest, _ = _image()
    registry = ScriptedServer("127.0.0.2", _manifest_route(manifest, storage))
    servers += [realm, storage, registry]

    code, output, result = _mirror(
        sandbox, tmp_path, registry.host, ns, {"NGC_API_KEY": CANARY, "DOCKER_CONFIG": str(sandbox.docker_config)}
    )

    assert code == 1, output
    assert storage.seen, "the blob was never requested from storage: the test proves nothing"
    assert realm.seen == [], f"the storage host's realm was asked for a token: {realm.seen}"
    assert storage.authorizations() == []
    assert CANARY not in output and CANARY not in result
    assert "X-Signature=abc" not in output and "X-Signature=abc" not in result  # pre-signed URL tokens are not echoed


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


def test_an_upload_location_on_another_host_gets_no_credentials(
    sandbox: Sandbox, source: Factory, servers: list[Any], tmp_path: Path, ns: str
) -> None:
    storage = ScriptedServer("127.0.0.3", lambda me, method, *_: Reply(201 if method == "PUT" else 404))
    basic = "Basic " + base64.b64encode(f"pusher:{CANARY}".encode()).decode()

    def target_route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != basic:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="hostile"'})
        if method == "POST" and path.split("?")[0].endswith("/blobs/uploads/"):
            return Reply(202, {"Location": f"{storage.url}/upload/{secrets.token_hex(4)}"})
        if method == "PUT" and "/manifests/" in path:
            return Reply(201)
        return Reply(200) if path == "/v2/" else Reply(404)

    target = ScriptedServer("127.0.0.2", target_route)
    servers += [storage, target]
    source.image(f"{ns}/org/app", "1.0")  # a config and one layer
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/org/app:1.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{target.host}/{ns}",
        "--target-username",
        "pusher",
        env={"NGC_API_KEY": sandbox.api_key, "NVCF_MIRROR_TARGET_PASSWORD": CANARY},
    )

    assert done.returncode == 0, done.stderr
    uploads = [s for s in storage.seen if s.method == "PUT"]
    assert len(uploads) == 2, storage.seen
    assert storage.authorizations() == []
    assert CANARY not in done.stdout + done.stderr


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


def test_a_token_endpoint_that_answers_without_a_token_is_one_clear_line(
    sandbox: Sandbox, servers: list[Any], tmp_path: Path, ns: str
) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            return Reply(200, {"Content-Type": "application/json"}, b'["no", "token"]')
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token"'})

    registry = ScriptedServer("127.0.0.2", route)
    servers.append(registry)
    code, output, _ = _mirror(
        sandbox, tmp_path, registry.host, ns, {"NGC_API_KEY": CANARY, "DOCKER_CONFIG": str(sandbox.docker_config)}
    )
    assert code in (1, 2)
    assert "internal error" not in output and "Traceback" not in output
    assert f"token endpoint 127.0.0.2 for {registry.host} answered without a token" in output


def _hung_up(server: ScriptedServer, within: float = 5.0) -> bool:
    """Whether the server saw the client close mid-body; its writer notices a moment after the client left."""
    deadline = time.monotonic() + within
    while server.unfinished < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.unfinished >= 1


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
    assert _hung_up(registry), "the client hung up: the body was not read to its end"


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
    assert _hung_up(registry), "the client hung up: the body was not read to its end"


def test_a_huge_manifest_is_refused_while_it_streams(
    sandbox: Sandbox, servers: list[Any], tmp_path: Path, ns: str
) -> None:
    """A 256 MiB 'manifest': reading stops at the 4 MiB cap, the rest is never fetched."""
    registry = ScriptedServer("127.0.0.2", _manifest_route(b"{" + b" " * (1024 * 1024 - 1), repeat=256))
    servers.append(registry)
    code, output, result = _mirror(
        sandbox, tmp_path, registry.host, ns, {"NGC_API_KEY": CANARY, "DOCKER_CONFIG": str(sandbox.docker_config)}
    )
    assert code == 1, output
    assert "larger than 4194304 bytes" in json.loads(result)["artifacts"][0]["error"]
    assert _hung_up(registry), "the client hung up: the body was not read to its end"


def test_an_empty_auths_entry_defers_to_the_credential_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Docker Desktop writes: {"auths": {"host": {}}, "credsStore": "desktop"}; a real helper program answers."""
    helper = tmp_path / "bin" / "docker-credential-teststore"
    helper.parent.mkdir()
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "registry.example:5000" ] && '
        'echo \'{"Username": "u", "Secret": "from-the-store"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"registry.example:5000": {}}, "credsStore": "teststore"}))
    assert file_credential("registry.example:5000", [config]) == Credential("u", "from-the-store")


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


def _config_with_identity_token(host: str, folder: Path) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps({"auths": {host: {"identitytoken": "refresh-me"}}}))
    return path


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


@pytest.mark.parametrize(
    ("pages", "per_page", "refused"),
    [
        (10**9, 1, "NGC listing of nvcf-onprem/helm-values: more than 1000 pages"),
        (1, 100_001, "NGC listing of nvcf-onprem/helm-values: more than 100000 entries"),
        ("many", 1, "malformed paginationInfo"),
    ],
)
def test_an_ngc_listing_too_long_or_malformed_is_refused_after_one_page(
    servers: list[Any], pages: object, per_page: int, refused: str
) -> None:
    """A listing that claims a billion pages, names too many versions on one, or cannot say how many it has."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        body = {
            "recipeVersions": [{"versionId": f"1.{i}", "status": "UPLOAD_COMPLETE"} for i in range(per_page)],
            "paginationInfo": {"index": 0, "size": 100, "totalPages": pages},
        }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match=refused),
    ):
        client.versions(ResourceRef("nvcf-onprem", None, "helm-values", None))
    assert len(api.seen) == 1


@pytest.mark.parametrize("lifetime", ["soon", -5, "NaN"])
def test_an_ngc_token_with_a_lifetime_that_is_not_a_positive_number_is_one_clear_line(
    servers: list[Any], lifetime: object
) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        return Reply(
            200, {"Content-Type": "application/json"}, json.dumps({"token": "t", "expires_in": lifetime}).encode()
        )

    authn = ScriptedServer("127.0.0.2", route)
    servers.append(authn)
    with (
        closing(NgcClient("legacy-key-" + secrets.token_hex(4), api_url=authn.url, authn_url=authn.url)) as client,
        pytest.raises(RegistryError, match="token lifetime that is not a positive number"),
    ):
        client.latest_version(ResourceRef("nvcf-onprem", None, "helm-values", None))


def test_an_ngc_version_whose_total_size_is_not_a_number_is_one_clear_line(servers: list[Any], tmp_path: Path) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.split("?")[0].endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": "lots"}
            }
        else:
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": 10}], "paginationInfo": {"totalPages": 1}}
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match="a total size that is not a number: 'lots'"),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def _ngc_with_storage(storage: Reply) -> Callable[[ScriptedServer, str, str, dict[str, str]], Reply]:
    """An NGC API serving one version of one 20,000-byte file, whose pre-signed URL answers ``storage``."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.startswith("/storage/"):
            return storage
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": 20_000}
            }
        elif bare.endswith("/versions/1.0/files"):
            body = {
                "recipeFiles": [{"path": "values.yaml", "sizeInBytes": 20_000}],
                "paginationInfo": {"totalPages": 1},
            }
        else:
            body = {
                "filepath": ["values.yaml"],
                "urls": [f"{me.url}/storage/values.yaml?X-Amz-Signature=s3cr3t"],
                "paginationInfo": {"totalPages": 1},
            }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    return route


def test_an_ngc_storage_download_that_trickles_is_given_up_as_stalled(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storage gets the blob rule of the registry client: a minimum rate over a window (lowered here so the
    test takes a second), not only httpx's per-read timeout, which a byte every few seconds resets."""
    # 5 KB/s
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * 100, repeat=200)), chunk_delay=0.02)
    servers.append(api)
    monkeypatch.setenv("NVCF_MIRROR_BLOB_RATE_WINDOW", "0.5")
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "20000")
    started = time.monotonic()
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(
            TransientError,
            match=r"download values.yaml of nvcf-onprem/helm-values:1.0: .*slower than 20 KiB/s: the stream is stalled",
        ),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert time.monotonic() - started < 3, "given up after a window, not after the whole trickle"
    assert not (tmp_path / "helm-values_v1.0" / "values.yaml").exists()


def test_a_refused_pre_signed_url_says_so_and_asks_for_no_credential(servers: list[Any], tmp_path: Path) -> None:
    """No credential goes to storage, so its 403 is worded as a refused URL, not as "check the credentials"."""
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(403, {}, b"<Error><Code>AccessDenied</Code></Error>")))
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(DeniedError) as refused,
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert "the pre-signed URL was refused" in str(refused.value) and "credentials" not in str(refused.value)
    assert "s3cr3t" not in str(refused.value)


# -- server text is data -----------------------------------------------------------------------------

FORGED = (
    "denied\n2026-11-27T12:00:00.000Z nvcf-mirror: copied    app:1.0 sha256:" + "0" * 64 + "\x1b[2J\x1b]0;owned\x07"
)


def test_a_registry_error_message_can_neither_forge_a_log_line_nor_reach_the_terminal(
    servers: list[Any], tmp_path: Path
) -> None:
    """Off a terminal (CI, Terraform's local-exec) a line break in a registry's error text would start a
    line of its own: it is written as \\n, and escape sequences as \\x1b."""

    def source_route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/v2/":
            return Reply(200)
        return Reply(
            404,
            {"Content-Type": "application/json"},
            json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": FORGED}]}).encode(),
        )

    def target_route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        return Reply(200) if path == "/v2/" else Reply(404)

    source, target = ScriptedServer("127.0.0.2", source_route), ScriptedServer("127.0.0.3", target_route)
    servers.extend([source, target])
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        source.host,
        "--target",
        f"{target.host}/p",
        "--retries",
        "1",
        "--result-file",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    lines = done.stderr.splitlines()
    assert not [line for line in lines if line.startswith("2026-11-27T12:00:00.000Z")], (
        "a forged line stands on its own"
    )
    assert any(
        "denied\\n2026-11-27T12:00:00.000Z nvcf-mirror: copied" in line and "\\x1b[2J" in line for line in lines
    ), done.stderr
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert "\n" not in error and "\x1b" not in error and "\\x1b" in error


@pytest.mark.parametrize(
    "published",
    ["99.0.0\n", "\u0669\u0669.0.0", "99.0.0\u200b"],
    ids=["trailing-newline", "arabic-indic-digits", "zero-width-space"],
)
def test_a_published_tag_outside_the_oci_grammar_is_never_a_version(
    servers: list[Any], tmp_path: Path, published: str
) -> None:
    """A tag list naming 99.0.0 followed by a line break (or spelt in non-ASCII digits) would win latest
    and become a URL path, a result entry and a Terraform output: it is not a tag, so not a version."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/v2/org/app/tags/list"):
            return Reply(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"name": "org/app", "tags": ["1.0.0", "1.1.0", published]}).encode(),
            )
        return Reply(200) if path == "/v2/" else Reply(404)

    source = ScriptedServer("127.0.0.2", route)
    servers.append(source)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0.0", "group": "test"}]
    )
    done = run_cli(
        "outdated", "--manifest", str(manifest), "--source-registry", source.host, "--output", "json", "--retries", "1"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["artifacts"][0]["newer"] == ["1.1.0"]


# -- the origin policy ---------------------------------------------------------------------------------


def _chart_repo(tls: object, chart_url: str, archive: bytes, prov: Reply | None = None) -> ScriptedServer:
    """A classic Helm repository over TLS whose index names ``chart_url`` for app 1.0.0."""
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

    return ScriptedServer("127.0.0.2", route, tls=tls)  # type: ignore[arg-type]


def _recording_target() -> ScriptedServer:
    """A target that accepts anything: the tests assert what never reached it."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST":
            return Reply(202, {"Location": "/upload/1"})
        if method == "PUT":
            return Reply(201)
        return Reply(200) if path == "/v2/" else Reply(404)

    return ScriptedServer("127.0.0.4", route)


def test_a_chart_url_off_the_repositorys_origin_never_gets_a_credential(servers: list[Any], tmp_path: Path) -> None:
    """The index (https) names a plain-http chart URL on a host the auth file has a password for (the
    Harbor target, say): an on-path attacker answering 401 Basic there gets no password in the clear."""
    ca = make_ca(tmp_path / "ca", hosts=("127.0.0.2",))
    attacker = ScriptedServer(
        "127.0.0.3", lambda me, method, path, headers: Reply(401, {"WWW-Authenticate": 'Basic realm="harbor"'})
    )
    repo = _chart_repo(
        ca.server_context(),
        f"{attacker.url}/charts/app-1.0.0.tgz",
        tgz({"app/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\n"}),
    )
    target = _recording_target()
    servers.extend([attacker, repo, target])
    password = "harbor-" + secrets.token_hex(8)
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(
        json.dumps({"auths": {attacker.host: {"auth": base64.b64encode(f"robot:{password}".encode()).decode()}}})
    )
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{target.host}/p",
        "--ca-file",
        str(ca.ca),
        "--retries",
        "1",
        "--result-file",
        str(tmp_path / "r.json"),
        env={"DOCKER_CONFIG": str(tmp_path / "docker"), "NGC_API_KEY": CANARY},
    )
    assert done.returncode == 1, done.stderr
    assert attacker.seen and attacker.authorizations() == [], "no credential went to the plain-http chart URL"
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert f"GET {attacker.url}/charts/app-1.0.0.tgz at {attacker.host}: 401" in error
    assert password not in done.stderr + done.stdout and [s for s in target.seen if s.method == "PUT"] == []


def test_a_provenance_redirect_that_leaves_tls_for_an_internal_endpoint_is_refused_and_nothing_is_stored(
    servers: list[Any], tmp_path: Path
) -> None:
    """A .prov is covered by no digest: the repository answers its request with a redirect to a
    plain-http metadata endpoint, whose answer would become the chart's provenance layer."""
    ca = make_ca(tmp_path / "ca", hosts=("127.0.0.2",))
    metadata = ScriptedServer(
        "127.0.0.3", lambda me, method, path, headers: Reply(200, {}, b'{"AccessKeyId": "ASIA-SECRET"}')
    )
    redirect = Reply(302, {"Location": f"{metadata.url}/latest/meta-data/iam/security-credentials/node"})
    repo = _chart_repo(
        ca.server_context(),
        "charts/app-1.0.0.tgz",
        tgz({"app/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\n"}),
        prov=redirect,
    )
    target = _recording_target()
    servers.extend([metadata, repo, target])
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{target.host}/p",
        "--ca-file",
        str(ca.ca),
        "--retries",
        "1",
        "--result-file",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == 1, done.stderr
    assert metadata.seen == [], "the internal endpoint was never asked"
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert (
        f"refusing the redirect from {repo.url} to "
        f"{metadata.url}/latest/meta-data/iam/security-credentials/node: it leaves TLS" in error
    ), error
    assert [s for s in target.seen if s.method in ("PUT", "POST")] == [], "nothing of the chart was stored"


@pytest.mark.parametrize(
    ("location", "refused"),
    [
        ("http://203.0.113.7/x", "it leaves TLS"),
        ("https://169.254.169.254/latest/meta-data/", "an internal address"),
        ("https://10.0.0.5/x", "an internal address"),
        ("https://[fe80::1]/x", "an internal address"),
    ],
)
def test_redirects_never_leave_tls_nor_move_from_a_public_origin_into_an_internal_one(
    location: str, refused: str
) -> None:
    """A public origin cannot be served on this machine: a mocked transport stands in for it, and no
    request is ever sent to the redirect's target (the policy refuses before httpx follows)."""
    from provider_helper import http
    from provider_helper.errors import PolicyError

    asked: list[str] = []

    def public(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": location})

    with (
        closing(http.client(transport=httpx.MockTransport(public), follow_redirects=True)) as client,
        pytest.raises(PolicyError, match=refused),
    ):
        client.get("https://helm.example.com/charts/app-1.0.0.tgz.prov")
    assert asked == ["https://helm.example.com/charts/app-1.0.0.tgz.prov"]
    with closing(
        http.client(
            transport=httpx.MockTransport(
                lambda r: (
                    httpx.Response(200)
                    if r.url.host == "127.0.0.3"
                    else httpx.Response(302, headers={"Location": "http://127.0.0.3/x"})
                )
            ),
            follow_redirects=True,
        )
    ) as local:
        assert local.get("http://127.0.0.2/x").status_code == 200, (
            "loopback to loopback (the tests' own servers) is allowed"
        )


def test_credentials_go_only_over_tls_or_where_plain_http_is_allowed() -> None:
    from provider_helper.origin import OriginPolicy

    policy = OriginPolicy(frozenset({"harbor.internal:8080"}))
    assert policy.may_send_credentials(httpx.URL("https://helm.ngc.nvidia.com/nvidia/index.yaml"))
    assert not policy.may_send_credentials(httpx.URL("http://helm.ngc.nvidia.com/nvidia/charts/x.tgz"))
    assert policy.may_send_credentials(httpx.URL("http://harbor.internal:8080/v2/")) and policy.may_send_credentials(
        httpx.URL("http://127.0.0.2:5000/")
    )
    assert not policy.may_send_credentials(httpx.URL("http://harbor.internal:8081/v2/"))


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


def test_blob_bytes_pass_through_in_whole_chunks_whatever_the_network_reads() -> None:
    reads = [b"a" * 700_000, b"b" * 700_000, b"c" * 10, b"d" * 2_000_000]
    chunks = list(http_layer.moving(iter(reads), "get blob x"))
    assert b"".join(chunks) == b"".join(reads)
    assert [len(c) for c in chunks[:-1]] == [http_layer.CHUNK_SIZE] * (len(chunks) - 1) and 0 < len(
        chunks[-1]
    ) <= http_layer.CHUNK_SIZE


def test_an_ngc_listing_of_huge_pages_is_refused_by_its_bytes(servers: list[Any]) -> None:
    """Five pages of 6 MiB each (one version id padded out): by pages and entries it is small, by bytes
    it passes 16 MiB on the third page, which is where it stops."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        body = {
            "recipeVersions": [{"versionId": "1.0", "status": "UPLOAD_COMPLETE", "description": "x" * (6 << 20)}],
            "paginationInfo": {"index": 0, "size": 100, "totalPages": 5},
        }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match="NGC listing of nvcf-onprem/helm-values: more than 16 MiB"),
    ):
        client.versions(ResourceRef("nvcf-onprem", None, "helm-values", None))
    assert len(api.seen) == 3


def test_an_ngc_listing_larger_than_the_free_disk_is_refused_before_any_download(
    servers: list[Any], tmp_path: Path
) -> None:
    """NGC's listing says how much a version takes: a petabyte is refused at once, not written until the disk is
    full."""
    huge = 10**15

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.startswith("/storage/"):
            return Reply(200, {}, b"x" * 100)
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": huge}
            }
        elif bare.endswith("/versions/1.0/files"):
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": huge}], "paginationInfo": {"totalPages": 1}}
        else:
            body = {
                "filepath": ["values.yaml"],
                "urls": [f"{me.url}/storage/values.yaml"],
                "paginationInfo": {"totalPages": 1},
            }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    from provider_helper.errors import InputError

    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(InputError, match=rf"NGC lists {huge} bytes of files, more than the \d+ bytes free"),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path / "dl")
    assert [s for s in api.seen if s.path.startswith("/storage/")] == []
