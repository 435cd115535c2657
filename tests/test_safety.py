"""Safety properties, each tested where it is the only line of defence (issue: tests that fail when
a safety property breaks). Hostile or lax servers come from hostile.ScriptedServer: a "lax" target
stores whatever it is sent without checking digests, as a broken or hostile registry would, so only
nvcf-mirror's own checks stand between corrupt content and a tag."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from faultproxy import Fault, FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest
from hostile import Reply, Route, ScriptedServer

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.ngcserver import NgcStandIn
from provider_helper.sandbox.stack import Sandbox

CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def lax_target(stored_digest: str | None = None) -> ScriptedServer:
    """Accepts every upload and manifest unchecked; ``stored_digest`` is what it claims to have stored."""
    counter = iter(range(1_000_000))

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST" and "/blobs/uploads/" in path:
            return Reply(202, {"Location": f"/upload/{next(counter)}"})
        if method == "PUT" and path.startswith("/upload/"):
            return Reply(201)
        if method == "PUT" and "/manifests/" in path:
            return Reply(201, {"Docker-Content-Digest": stored_digest} if stored_digest else {})
        return Reply(200) if path == "/v2/" else Reply(404)

    return ScriptedServer("127.0.0.3", route)


def corrupt_source() -> tuple[ScriptedServer, str]:
    """A source whose layer bytes do not hash to the digest its manifest names (one flipped byte)."""
    layer = os.urandom(4096)
    flipped = bytes([layer[0] ^ 1]) + layer[1:]
    body = json.dumps(
        {
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
    ).encode()
    blobs = {sha256(CONFIG): CONFIG, sha256(layer): flipped}

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "/manifests/" in path:
            return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body)
        if "/blobs/" in path:
            return Reply(200, {}, blobs[path.rsplit("/", 1)[-1]])
        return Reply(200)

    return ScriptedServer("127.0.0.2", route), sha256(layer)


def _manifest(tmp_path: Path, source: str = "nvcr.io/org/app:1.0") -> Path:
    return write_manifest(tmp_path / "m.yaml", [{"type": "image", "source": source, "group": "test"}])


def test_a_corrupt_source_blob_never_becomes_a_tag_at_a_target_that_checks_nothing(
    servers: list[Any], tmp_path: Path
) -> None:
    source, _ = corrupt_source()
    target = lax_target()
    servers += [source, target]
    done = run_cli(
        "mirror",
        "--manifest",
        str(_manifest(tmp_path)),
        "--source-registry",
        source.host,
        "--target",
        f"{target.host}/p",
        "--retries",
        "1",
    )
    assert done.returncode == 1
    assert [s for s in target.seen if s.method == "PUT" and "/manifests/" in s.path] == []


def test_save_with_a_corrupt_blob_indexes_nothing_and_stores_nothing_under_its_digest(
    servers: list[Any], tmp_path: Path
) -> None:
    source, layer_digest = corrupt_source()
    servers.append(source)
    layout = tmp_path / "layout"
    done = run_cli(
        "save",
        "--manifest",
        str(_manifest(tmp_path)),
        "--source-registry",
        source.host,
        "--to",
        str(layout),
        "--retries",
        "1",
    )
    assert done.returncode == 1 and "1 failed" in done.stderr
    assert json.loads((layout / "index.json").read_text())["manifests"] == []
    assert json.loads((layout / "nvcf-mirror.lock.json").read_text())["artifacts"] == []
    assert not (layout / "blobs" / "sha256" / layer_digest.split(":")[1]).exists()


def test_load_of_a_layout_with_a_flipped_byte_never_tags_it_at_a_target_that_checks_nothing(
    sandbox: Sandbox, source: Factory, ns: str, servers: list[Any], tmp_path: Path
) -> None:
    source.image(f"{ns}/org/app", "1.0", layer_sizes=(8192,))
    layout = tmp_path / "layout"
    run_cli(
        "save",
        "--manifest",
        str(_manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(layout),
        env=sandbox.env(),
        check=True,
    )
    biggest = max((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[100] ^= 1
    biggest.write_bytes(bytes(data))
    target = lax_target()
    servers.append(target)
    done = run_cli("load", "--from", str(layout), "--target", f"{target.host}/p")
    assert done.returncode == 1
    assert [s for s in target.seen if s.method == "PUT"] == [], "nothing is sent before every blob checks out"


def test_a_manifest_stored_under_another_digest_fails_the_artifact(
    sandbox: Sandbox, source: Factory, ns: str, servers: list[Any], tmp_path: Path
) -> None:
    source.image(f"{ns}/org/app", "1.0")
    target = lax_target(stored_digest="sha256:" + "0" * 64)
    servers.append(target)
    result = tmp_path / "r.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(_manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{target.host}/p",
        "--result-file",
        str(result),
        env=sandbox.env(),
    )
    assert done.returncode == 1
    artifact = json.loads(result.read_text())["artifacts"][0]
    assert artifact["status"] == "failed" and "stored p/app:1.0 as sha256:000" in artifact["error"]


def test_verify_reports_a_source_tag_that_moved_since_the_mirror(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/org/app", "1.0")
    manifest = _manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    run_cli("mirror", *common, env=sandbox.env(), check=True)
    assert run_cli("verify", *common, env=sandbox.env()).returncode == 0
    source.image(f"{ns}/org/app", "1.0", layer_sizes=(4096,))  # the tag moves
    moved = run_cli("verify", *common, "--result-file", str(tmp_path / "v.json"), env=sandbox.env())
    assert moved.returncode == 1
    assert json.loads((tmp_path / "v.json").read_text())["artifacts"][0]["status"] == "failed"


def test_a_moved_tag_is_copied_again_and_a_differing_target_tag_is_not_present(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    first = source.image(f"{ns}/org/app", "1.0")
    manifest = _manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    sandbox.target_factory().image(f"{ns}/app", "1.0", layer_sizes=(1000,))  # the target already has a different 1.0
    run_cli("mirror", *common, "--result-file", str(tmp_path / "a.json"), env=sandbox.env(), check=True)
    assert json.loads((tmp_path / "a.json").read_text())["artifacts"][0]["status"] == "copied"
    authfile = sandbox.docker_config / "config.json"
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.0", authfile=authfile)) == first.digest
    moved = source.image(f"{ns}/org/app", "1.0", layer_sizes=(3000,))
    run_cli("mirror", *common, "--result-file", str(tmp_path / "b.json"), env=sandbox.env(), check=True)
    second = json.loads((tmp_path / "b.json").read_text())["artifacts"][0]
    assert second["status"] == "copied" and second["digest"] == moved.digest
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.0", authfile=authfile)) == moved.digest


def test_a_non_first_platform_of_an_index_is_the_one_copied(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    _, children = source.index(f"{ns}/org/multi", "1.0", platforms=("linux/amd64", "linux/arm64", "linux/ppc64le"))
    manifest = _manifest(tmp_path, f"nvcr.io/{ns}/org/multi:1.0")
    authfile = sandbox.docker_config / "config.json"
    for platform, prefix in (("linux/arm64", f"{ns}-arm"), ("linux/ppc64le", f"{ns}-ppc")):
        run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{sandbox.target.host}/{prefix}",
            "--platform",
            platform,
            env=sandbox.env(),
            check=True,
        )
        assert (
            sha256(skopeo_raw(f"{sandbox.target.host}/{prefix}/multi:1.0", authfile=authfile))
            == children[platform].digest
        )


def test_resources_pull_refuses_a_flipped_byte_in_the_registry(sandbox: Sandbox, ns: str, tmp_path: Path) -> None:
    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    resource = "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4"
    payload = os.urandom(5000)
    ngc.resources[resource] = {"nvcf-base-0.1.4.tar.gz": payload}
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "resource", "source": resource, "group": "r"}], groups=[{"name": "r"}]
    )
    env = {
        "NGC_API_KEY": ngc.personal_key,
        "NVCF_MIRROR_NGC_API_URL": ngc.url,
        "DOCKER_CONFIG": str(sandbox.docker_config),
    }
    try:
        run_cli(
            "resources",
            "download",
            "--manifest",
            str(manifest),
            "--dest",
            str(tmp_path / "d"),
            "--push",
            "--target",
            f"{sandbox.target.host}/{ns}",
            env=env,
            check=True,
        )
    finally:
        ngc.close()
    stored = sandbox.target.blob_path(sha256(payload))
    data = bytearray(stored.read_bytes())
    data[10] ^= 1
    stored.write_bytes(bytes(data))
    pulled = tmp_path / "pulled"
    done = run_cli(
        "resources",
        "pull",
        "--manifest",
        str(manifest),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--dest",
        str(pulled),
        env=env,
    )
    assert done.returncode == 1 and "does not match its digest" in done.stderr
    assert not (pulled / "nvcf-base_v0.1.4" / "nvcf-base-0.1.4.tar.gz").exists()


def test_a_wrong_personal_key_is_never_printed(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> None:
    source.image(f"{ns}/org/app", "1.0")
    wrong = "nvapi-WRONG" + os.urandom(12).hex()
    result = tmp_path / "r.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(_manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--result-file",
        str(result),
        env={**sandbox.env(), "NGC_API_KEY": wrong},
    )
    assert done.returncode == 2 and "authentication failed" in done.stderr
    assert wrong not in done.stdout + done.stderr
    assert not result.exists() or wrong not in result.read_text()


def test_signed_url_tokens_stay_out_of_error_text(tmp_path: Path) -> None:
    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    resource = "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4"
    ngc.resources[resource] = {"f.tar.gz": b"x" * 100}
    ngc.storage_status = 500
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "resource", "source": resource, "group": "r"}], groups=[{"name": "r"}]
    )
    try:
        done = run_cli(
            "-v",
            "resources",
            "download",
            "--manifest",
            str(manifest),
            "--dest",
            str(tmp_path / "d"),
            "--retries",
            "2",
            env={"NGC_API_KEY": ngc.personal_key, "NVCF_MIRROR_NGC_API_URL": ngc.url},
        )
    finally:
        ngc.close()
    assert done.returncode == 1
    assert "X-Amz-Signature" not in done.stdout + done.stderr
    assert "/storage/" in done.stderr, "the error names the storage URL, without its query"
    assert len(ngc.storage_requests) == 2, (
        f"--retries 2 means two attempts at NGC's storage too: {ngc.storage_requests}"
    )


def test_ecr_targets_hold_manifest_puts_to_the_put_image_quota(
    servers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limiter as a run wires it: 25 manifest PUTs to an ECR target pass at ECR's PutImage quota,
    10 at once, then 10 a second, so at least 1.4 s go by. The target is a lax local server that answers
    at once: without the limiter the same 25 PUTs take a small fraction of that, even on a loaded machine."""
    from provider_helper.oci.manifest import Manifest
    from provider_helper.session import RunConfig

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    target = lax_target()
    servers.append(target)
    # an ECR target off the ECR form: the endpoint's host
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", "http://127.0.0.3:1")
    registries = RunConfig(target=f"{target.host}/p", target_type="ecr", aws_region="us-east-1").registries()
    manifest = Manifest.from_bytes(
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2},
                "layers": [],
            }
        ).encode(),
        None,
    )
    try:
        client = registries.get(target.host)
        started = time.monotonic()
        for n in range(25):
            client.put_manifest("p/app", f"t{n}", manifest)
        elapsed = time.monotonic() - started
    finally:
        registries.close()
    assert len([s for s in target.seen if s.method == "PUT"]) == 25
    assert elapsed >= 1.4


def test_429_waits_as_long_as_retry_after_says(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> None:
    source.image(f"{ns}/org/app", "1.0")
    proxy = FaultProxy(sandbox.target.url)
    proxy.add(Fault("PUT", "/manifests/", "status", times=1, status=429, headers={"Retry-After": "3"}))
    config = json.loads((sandbox.docker_config / "config.json").read_text())
    config["auths"][proxy.host] = config["auths"][sandbox.target.host]
    (tmp_path / "config.json").write_text(json.dumps(config))
    try:
        done = run_cli(
            "mirror",
            "--manifest",
            str(_manifest(tmp_path, f"nvcr.io/{ns}/org/app:1.0")),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{proxy.host}/{ns}",
            env={**sandbox.env(), "DOCKER_CONFIG": str(tmp_path)},
        )
        puts = sorted(start for start, _, method, path in proxy.spans if method == "PUT" and "/manifests/" in path)
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    assert len(puts) == 2 and puts[1] - puts[0] >= 2.9, "without Retry-After the backoff would be under a second"


PATH_DIGEST = "sha256:../../../v2/victim/manifests/x"


def _image_manifest(layers: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(CONFIG),
                "size": len(CONFIG),
            },
            "layers": layers,
        }
    ).encode()


def _mirror_names_no_path(servers: list[Any], tmp_path: Path, route: Route) -> None:
    """Mirror from a scripted source: the artifact fails on the path-shaped digest, and no request
    to either server ever carries it."""
    source = ScriptedServer("127.0.0.2", route)
    target = lax_target()
    servers += [source, target]
    result = tmp_path / "r.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(_manifest(tmp_path)),
        "--source-registry",
        source.host,
        "--target",
        f"{target.host}/p",
        "--retries",
        "1",
        "--result-file",
        str(result),
    )
    assert done.returncode == 1, done.stderr
    assert "invalid digest" in json.loads(result.read_text())["artifacts"][0]["error"]
    assert [s.path for s in target.seen + source.seen if "victim" in s.path or ".." in s.path] == []


def test_a_digest_with_a_path_never_becomes_a_url_at_the_target(servers: list[Any], tmp_path: Path) -> None:
    """A hostile source names a layer ``sha256:../../../v2/victim/manifests/x``: refused before any request names it."""
    body = _image_manifest([{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": PATH_DIGEST, "size": 10}])

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "/manifests/" in path:
            return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body)
        return Reply(200, {}, CONFIG) if "/blobs/" in path else Reply(200)

    _mirror_names_no_path(servers, tmp_path, route)


def test_a_hostile_referrers_index_never_names_a_path_at_the_target(servers: list[Any], tmp_path: Path) -> None:
    """A source's fallback-tag index lists a referrer ``sha256:../../../v2/victim/manifests/x``: the
    signature step refuses it before any request names it, and says so on the artifact."""
    image = _image_manifest([])
    stem = sha256(image).replace(":", "-")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": PATH_DIGEST, "size": 10}
            ],
        }
    ).encode()

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.endswith("/tags/list?n=1000"):
            return Reply(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"name": "org/app", "tags": ["1.0", stem]}).encode(),
            )
        if path.endswith(f"/manifests/{stem}"):
            return Reply(200, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, index)
        if "/manifests/" in path:
            return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, image)
        if "/blobs/" in path:
            return Reply(200, {}, CONFIG)
        return Reply(200) if path == "/v2/" else Reply(404)

    _mirror_names_no_path(servers, tmp_path, route)
