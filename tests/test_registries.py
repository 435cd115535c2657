"""Sources on any registry: Docker Hub as Docker reads it, quay.io and ghcr.io anonymous tokens, --source-map,
the public catalog without a key, and the preflight for each token-service shape.

Real parts: one Distribution registry per upstream (nvcr.io, Docker Hub, quay.io, ghcr.io), each behind a
token server with that upstream's shape (realm path, ``service``, who gets anonymous tokens), shared by the
module's tests; the session's target registry; the NGC stand-in; a classic Helm repository laid out like
helm.ngc.nvidia.com/nvidia/nvcf; skopeo reads back what was pushed. Only the rate-limit answer is injected
(faultproxy in front of the Docker Hub stand-in): Distribution never answers 429.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from faultproxy import Fault, FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest
from upstreams import HUB_PASSWORD, HUB_USER, StandIn
from upstreams import source_maps as _maps

from provider_helper.sandbox.images import chart_archive
from provider_helper.sandbox.ngcserver import NgcStandIn
from provider_helper.sandbox.stack import Sandbox


def _target_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    """The target's login only: no NGC_API_KEY, no login for any source."""
    return {"DOCKER_CONFIG": str(sandbox.docker_config), **extra}


def _authfile(sandbox: Sandbox) -> Path:
    return sandbox.docker_config / "config.json"


def _image(ref: str, **extra: str) -> dict[str, str]:
    return {"type": "image", "source": ref, "group": "test", **extra}


def test_docker_hub_references_with_and_without_registry_and_library_resolve_to_the_right_repository(
    sandbox: Sandbox, upstreams: dict[str, StandIn], ns: str, tmp_path: Path
) -> None:
    hub = upstreams["docker.io"]
    nats = hub.factory.image("library/nats", "2.10.21-alpine")
    k8s = hub.factory.image("alpine/k8s", "1.37.0")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            _image("docker.io/library/nats:2.10.21-alpine"),
            _image("nats:2.10.21-alpine", name="nats-short"),
            _image("index.docker.io/library/nats:2.10.21-alpine", name="nats-index"),
            _image("docker.io/alpine/k8s:1.37.0"),
            _image("alpine/k8s:1.37.0", name="k8s-short"),
        ],
    )
    result = tmp_path / "r.json"
    asked_before = len(hub.tokens.requests)
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        *_maps(upstreams, "docker.io"),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--result-file",
        str(result),
        env=_target_env(sandbox),
    )
    assert done.returncode == 0, done.stderr
    by_name = {a["target"].split("/")[-1]: a for a in json.loads(result.read_text())["artifacts"]}
    for name in ("nats:2.10.21-alpine", "nats-short:2.10.21-alpine", "nats-index:2.10.21-alpine"):
        assert (
            by_name[name]["digest"] == nats.digest
            and by_name[name]["source"] == "docker.io/library/nats:2.10.21-alpine"
        ), name
    for name in ("k8s:1.37.0", "k8s-short:1.37.0"):
        assert by_name[name]["digest"] == k8s.digest and by_name[name]["source"] == "docker.io/alpine/k8s:1.37.0", name
    scopes = {scope for request in hub.tokens.requests[asked_before:] for scope in request}
    assert {"repository:library/nats:pull", "repository:alpine/k8s:pull"} <= scopes, (
        "tokens for Docker Hub's repositories, library/ included"
    )
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/nats-short:2.10.21-alpine", authfile=_authfile(sandbox)))
        == nats.digest
    )


def test_plan_reads_docker_hub_at_registry_1_and_a_mirror_under_its_prefix_and_the_result_keeps_the_upstream(
    tmp_path: Path,
) -> None:
    """Without a map Docker Hub's API host is registry-1.docker.io; with ``docker.io=HOST/PREFIX`` the repository
    is read under the prefix. The plan's table says where each source is read; the result document keeps the
    upstream."""
    manifest = write_manifest(
        tmp_path / "m.yaml", [_image("nats:2.10.21-alpine"), _image("quay.io/jetstack/cert-manager-acmesolver:v1.16.2")]
    )
    common = ["plan", "--offline", "--manifest", str(manifest), "--target", "127.0.0.1:9/p"]
    maps = ["--source-map", "docker.io=mirror.internal:5000/hub", "--source-map", "quay.io=quay-cache.internal"]
    plain, mapped = run_cli(*common), run_cli(*common, *maps)
    assert plain.returncode == 0 and mapped.returncode == 0, plain.stderr + mapped.stderr
    assert [line.rsplit(" from ", 1)[1] for line in plain.stdout.splitlines()[1:]] == [
        "registry-1.docker.io/library/",
        "quay.io/jetstack/",
    ]
    assert [line.rsplit(" from ", 1)[1] for line in mapped.stdout.splitlines()[1:]] == [
        "mirror.internal:5000/hub/library/",
        "quay-cache.internal/jetstack/",
    ]
    as_json = run_cli(*common, *maps, "--output", "json")
    assert [a["source"] for a in json.loads(as_json.stdout)["artifacts"]] == [
        "docker.io/library/nats:2.10.21-alpine",
        "quay.io/jetstack/cert-manager-acmesolver:v1.16.2",
    ]


@pytest.mark.parametrize(
    ("items", "line"),
    [
        (
            ["=x"],
            "--source-map =x: UPSTREAM must be a registry or web host, e.g. docker.io, ghcr.io, helm.ngc.nvidia.com",
        ),
        (["docker.io"], "--source-map docker.io: expected UPSTREAM=MIRROR, e.g. docker.io=mirror.internal:5000"),
        (
            ["a=b=c"],
            "--source-map a=b=c: UPSTREAM must be a registry or web host, e.g. docker.io, ghcr.io, helm.ngc.nvidia.com",
        ),
        (
            ["docker.io=b=c"],
            "--source-map docker.io=b=c: MIRROR must be HOST[:PORT][/PREFIX], e.g. mirror.internal:5000",
        ),
        (
            ["docker.io=m.internal", "index.docker.io=n.internal"],
            "--source-map index.docker.io=n.internal: docker.io is mapped twice",
        ),
        (
            ["nvcr.io=m.internal", "--source-registry", "n.internal"],
            "--source-map nvcr.io=m.internal: nvcr.io is also given by --source-registry: use one of the two",
        ),
    ],
)
def test_a_bad_source_map_is_one_line_and_exit_2(items: list[str], line: str, tmp_path: Path) -> None:
    args = [
        arg
        for item in items
        for arg in (("--source-map", item) if not item.startswith("--") and item != "n.internal" else (item,))
    ]
    manifest = write_manifest(tmp_path / "m.yaml", [_image("nats:2.10.21-alpine")])
    done = run_cli("plan", "--offline", "--manifest", str(manifest), "--target", "127.0.0.1:9/p", *args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"nvcf-mirror: error: {line}"]


def _hub_login(sandbox: Sandbox, tmp_path: Path, key: str) -> Path:
    """An auth file with the target's login and a Docker Hub login under ``key``, as docker login writes it."""
    config = json.loads(_authfile(sandbox).read_text())
    config["auths"][key] = {"auth": base64.b64encode(f"{HUB_USER}:{HUB_PASSWORD}".encode()).decode()}
    folder = tmp_path / "docker"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_docker_hub_login_under_its_v1_key_is_used_and_without_it_the_line_names_the_key(
    sandbox: Sandbox, upstreams: dict[str, StandIn], ns: str, tmp_path: Path
) -> None:
    hub = upstreams["docker.io"]
    private = hub.factory.image("private/app", "1.0")
    manifest = write_manifest(tmp_path / "m.yaml", [_image("docker.io/private/app:1.0")])
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        *_maps(upstreams, "docker.io"),
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    # the token service grants an anonymous token that opens nothing
    anonymous = run_cli(*args, env=_target_env(sandbox))
    assert anonymous.returncode == 2
    assert anonymous.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: {hub.host} (docker.io) requires credentials and none were found: "
        "log in with docker/podman login, or use an auth file (DOCKER_CONFIG, REGISTRY_AUTH_FILE) "
        "(Docker Hub: the entry https://index.docker.io/v1/)"
    ]
    logged_in = run_cli(*args, env={"DOCKER_CONFIG": str(_hub_login(sandbox, tmp_path, "https://index.docker.io/v1/"))})
    assert logged_in.returncode == 0, logged_in.stderr
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.0", authfile=_authfile(sandbox))) == private.digest
    assert HUB_PASSWORD not in logged_in.stdout + logged_in.stderr


def _limited(
    headers: dict[str, str] | None = None,
    status_body: bytes = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}',
) -> Fault:
    limit = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600", **(headers or {})}
    return Fault("GET", r"/manifests/", "status", times=-1, status=429, headers=limit, body=status_body)


@pytest.mark.parametrize("retry_after", [None, "3600"], ids=["no-retry-after", "retry-after-past-the-policy"])
def test_docker_hubs_used_up_rate_limit_is_one_line_naming_it_and_no_retry_storm(
    sandbox: Sandbox, upstreams: dict[str, StandIn], ns: str, tmp_path: Path, retry_after: str | None
) -> None:
    """No Retry-After, or one longer than the retry policy's longest wait (120 s): not retried, nothing more asked."""
    hub = upstreams["docker.io"]
    for name in ("a", "b", "c"):
        hub.factory.image(f"library/{name}", "1")
    proxy = FaultProxy(hub.registry.url)
    try:
        proxy.add(_limited({"Retry-After": retry_after} if retry_after else {}))
        manifest = write_manifest(tmp_path / "m.yaml", [_image(f"{name}:1") for name in "abc"])
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--source-map",
            f"docker.io={proxy.host}",
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--jobs",
            "1",
            "--check-jobs",
            "1",
            env=_target_env(sandbox),
        )
        asked = proxy.count("GET", r"/manifests/")
    finally:
        proxy.close()
    assert done.returncode == 1
    reason = (
        "Docker Hub's pull rate limit is used up (100 pulls per 6 h, 0 left): log in to Docker Hub "
        "(docker login, the auth-file entry https://index.docker.io/v1/) for a higher limit, "
        "or read it through a mirror with --source-map docker.io=MIRROR"
    )
    full = [line for line in done.stderr.splitlines() if f"at {proxy.host} (Docker Hub): {reason}" in line]
    assert len(full) == 1, done.stderr
    assert asked == 1, (
        f"one request met the limit and nothing was retried or asked after it ({asked} manifest requests)"
    )
    assert sum(f"not asked, {reason}" in line for line in done.stderr.splitlines()) == 2


def test_a_rate_limit_answer_with_a_short_retry_after_is_waited_for_and_the_copy_goes_on(
    sandbox: Sandbox, upstreams: dict[str, StandIn], ns: str, tmp_path: Path
) -> None:
    hub = upstreams["docker.io"]
    pushed = hub.factory.image("library/waits", "1")
    proxy = FaultProxy(hub.registry.url)
    try:
        fault = proxy.add(_limited({"Retry-After": "1"}))
        fault.times = 1
        manifest = write_manifest(tmp_path / "m.yaml", [_image("waits:1")])
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--source-map",
            f"docker.io={proxy.host}",
            "--target",
            f"{sandbox.target.host}/{ns}",
            env=_target_env(sandbox),
        )
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    assert fault.hits == 1
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/waits:1", authfile=_authfile(sandbox))) == pushed.digest


@pytest.mark.parametrize("shape", ["granted-but-useless", "refused-401", "credentials-refused"])
def test_the_preflight_names_ngc_api_key_and_the_organisation_for_each_token_service_shape(
    sandbox: Sandbox, upstreams: dict[str, StandIn], ns: str, tmp_path: Path, shape: str
) -> None:
    """Anonymous granted (the public catalog) is the end-to-end test below; here the three shapes that need a key."""
    nvcr = upstreams["nvcr.io"]
    org = "0833294136851237" if shape == "granted-but-useless" else "nvidia"
    repos = [f"{org}/{ns}/a", f"{org}/{ns}/b"] if org != "nvidia" else [f"nvidia/{ns}/a", f"nvidia/{ns}/b"]
    for repo in repos:
        nvcr.factory.image(repo, "1")
    manifest = write_manifest(tmp_path / "m.yaml", [_image(f"nvcr.io/{repo}:1") for repo in repos])
    env = _target_env(
        sandbox, **({"NGC_API_KEY": "nvapi-WRONG-" + secrets.token_hex(6)} if shape == "credentials-refused" else {})
    )
    asked_before = len(nvcr.tokens.requests)
    nvcr.tokens.anonymous = "refused" if shape == "refused-401" else "public"
    try:
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            *_maps(upstreams, "nvcr.io"),
            "--target",
            f"{sandbox.target.host}/{ns}",
            env=env,
        )
    finally:
        nvcr.tokens.anonymous = "public"
    assert done.returncode == 2
    if shape == "credentials-refused":
        line = (
            f"authentication failed for {nvcr.host} (nvcr.io refused NGC_API_KEY: "
            f"it must be an API key of the NGC organisation {org} with access to its registry)"
        )
        assert env["NGC_API_KEY"] not in done.stdout + done.stderr
    else:
        line = (
            f"{nvcr.host} (nvcr.io) asks for credentials and NGC_API_KEY is not set: "
            f"export NGC_API_KEY with an API key of the NGC organisation {org} "
            "(a Personal API key with access to its registry)"
        )
    assert done.stderr.strip().splitlines() == [f"nvcf-mirror: error: {line}"]
    assert len(nvcr.tokens.requests) - asked_before <= 3, "the preflight asked, not each artifact"
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/a:1", authfile=_authfile(sandbox))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def helm_ngc(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A web server laid out like helm.ngc.nvidia.com: ``/nvidia/nvcf/index.yaml`` and ``/nvidia/nvcf/charts/*.tgz``."""
    root = tmp_path / "helm-ngc"
    (root / "nvidia/nvcf/charts").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _publish_classic(root: Path, name: str, version: str) -> bytes:
    archive = chart_archive(
        name,
        {
            "Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\ndescription: stand-in\n",
            "values.yaml": "replicas: 1\n",
        },
    )
    (root / "nvidia/nvcf/charts" / f"{name}-{version}.tgz").write_bytes(archive)
    entry = {
        "name": name,
        "version": version,
        "urls": [f"charts/{name}-{version}.tgz"],
        "digest": hashlib.sha256(archive).hexdigest(),
        "created": "2026-11-01T10:00:00Z",
    }
    (root / "nvidia/nvcf/index.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "entries": {name: [entry]}}))
    return archive


def test_a_manifest_of_four_registries_a_classic_and_an_oci_chart_and_an_ngc_resource_mirrors_and_verifies_with_no_key(
    sandbox: Sandbox, upstreams: dict[str, StandIn], helm_ngc: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    pushed = {
        "nvcf-api": upstreams["nvcr.io"].factory.index(f"nvidia/nvcf/{ns}/nvcf-api", "1.27.1")[0],
        "nats": upstreams["docker.io"].factory.image("library/nats", "2.10.21-alpine"),
        "cert-manager-acmesolver": upstreams["quay.io"].factory.image("jetstack/cert-manager-acmesolver", "v1.16.2"),
        "grove-operator": upstreams["ghcr.io"].factory.image("ai-dynamo/grove/grove-operator", "v0.1.0"),
        "kai-scheduler": upstreams["ghcr.io"].factory.chart("kai-scheduler/kai-scheduler/kai-scheduler", "v0.17.1"),
    }
    root, helm_host = helm_ngc
    archive = _publish_classic(root, "helm-nvcf-api", "1.27.1")
    resource = f"nvidia/nvcf/{ns}-stack:1.0.1"
    files = {"helmfile.yaml": b"releases: []\n", "values/1.0.yaml": os.urandom(2048)}
    ngc = NgcStandIn(
        personal_key="nvapi-" + secrets.token_hex(8), legacy_key=secrets.token_hex(8), public_orgs={"nvidia"}
    )
    ngc.resources[resource] = files
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            _image(f"nvcr.io/nvidia/nvcf/{ns}/nvcf-api:1.27.1"),
            _image("nats:2.10.21-alpine"),
            _image("quay.io/jetstack/cert-manager-acmesolver:v1.16.2"),
            _image("ghcr.io/ai-dynamo/grove/grove-operator:v0.1.0"),
            {"type": "chart", "source": "ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler:v0.17.1", "group": "test"},
            {
                "type": "chart",
                "repo": "https://helm.ngc.nvidia.com/nvidia/nvcf",
                "chart": "helm-nvcf-api",
                "version": "1.27.1",
                "group": "test",
            },
            {"type": "resource", "source": resource, "group": "test"},
        ],
    )
    common = [
        "--manifest",
        str(manifest),
        *_maps(upstreams, "nvcr.io", "docker.io", "quay.io", "ghcr.io"),
        "--source-map",
        f"helm.ngc.nvidia.com={helm_host}",
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    env = _target_env(sandbox, NVCF_MIRROR_NGC_API_URL=ngc.url, NVCF_MIRROR_NGC_AUTHN_URL=ngc.url)  # and no NGC_API_KEY
    result = tmp_path / "r.json"
    try:
        mirrored = run_cli("mirror", *common, "--result-file", str(result), env=env)
        assert mirrored.returncode == 0, mirrored.stderr
        verified = run_cli("verify", *common, env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        ngc.close()
    assert ngc.anonymous_requests > 0 and ngc.unauthorized == 0, "the public NGC resource was read without a key"
    artifacts = {a["target"].split("/", 2)[2]: a for a in json.loads(result.read_text())["artifacts"]}
    assert {a["status"] for a in artifacts.values()} == {"copied"}
    assert artifacts["helm-nvcf-api:1.27.1"]["source"] == "https://helm.ngc.nvidia.com/nvidia/nvcf/helm-nvcf-api:1.27.1"
    assert artifacts["nats:2.10.21-alpine"]["source"] == "docker.io/library/nats:2.10.21-alpine"
    for name, top in pushed.items():
        tag = {
            "nvcf-api": "1.27.1",
            "nats": "2.10.21-alpine",
            "cert-manager-acmesolver": "v1.16.2",
            "grove-operator": "v0.1.0",
            "kai-scheduler": "v0.17.1",
        }[name]
        raw = skopeo_raw(f"{sandbox.target.host}/{ns}/{name}:{tag}", authfile=_authfile(sandbox))
        assert sha256(raw) == artifacts[f"{name}:{tag}"]["digest"], name
        if name != "nvcf-api":  # the index is copied as the linux/amd64 manifest; the others are single manifests
            assert sha256(raw) == top.digest, name
    chart = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/helm-nvcf-api:1.27.1", authfile=_authfile(sandbox)))
    assert chart["layers"][0]["digest"] == sha256(archive), (
        "the classic chart was read from the stand-in for helm.ngc.nvidia.com"
    )
    stack = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/{ns}-stack:1.0.1", authfile=_authfile(sandbox)))
    assert sorted(layer["annotations"]["org.opencontainers.image.title"] for layer in stack["layers"]) == sorted(files)
    assert all(upstreams[u].tokens.requests for u in ("quay.io", "ghcr.io")), (
        "quay.io and ghcr.io were read with tokens from their realms"
    )
