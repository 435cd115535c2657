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
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, tgz, write_manifest
from hostile import Reply, ScriptedServer, hung_up
from testca import make_ca

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
    assert hung_up(registry), "the client hung up: the body was not read to its end"


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
