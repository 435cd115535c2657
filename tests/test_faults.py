"""Faults real registries produce, injected by a proxy in front of a real registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

from faultproxy import Fault, FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest

RATE_EXCEEDED = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "Rate exceeded"}]}).encode()


@pytest.fixture
def target_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.target.url)
    yield proxy
    proxy.close()


@pytest.fixture
def one_image(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> tuple[Path, str]:
    _, children = source.index(f"{ns}/nvidia/app", "1", layer_sizes=(200_000,))
    manifest = write_manifest(tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}])
    return manifest, children["linux/amd64"].digest


def _mirror(sandbox: Sandbox, manifest: Path, target_host: str, ns: str, *extra: str) -> object:
    env = {**sandbox.env(), "DOCKER_CONFIG": str(_auth_for(sandbox, target_host, manifest.parent))}
    return run_cli("mirror", "--manifest", str(manifest), "--source-registry", sandbox.source.host, "--target", f"{target_host}/{ns}", *extra, env=env)


def _auth_for(sandbox: Sandbox, host: str, folder: Path) -> Path:
    config = json.loads((sandbox.docker_config / "config.json").read_text())
    config["auths"][host] = config["auths"][sandbox.target.host]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_429_rate_exceeded_on_manifest_put_is_retried_after_retry_after(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str
) -> None:
    manifest, expected = one_image
    target_proxy.add(Fault("PUT", "/manifests/", "status", times=2, status=429, headers={"Retry-After": "1"}, body=RATE_EXCEEDED))
    done = _mirror(sandbox, manifest, target_proxy.host, ns)
    assert done.returncode == 0, done.stderr
    assert target_proxy.count("PUT", "/manifests/") == 3
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json")) == expected


def test_manifest_put_failing_beyond_the_budget_fails_cleanly_and_the_next_run_completes(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    manifest, expected = one_image
    target_proxy.add(Fault("PUT", "/manifests/", "status", times=-1, status=503))
    failed = _mirror(sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r.json"))
    assert failed.returncode == 1
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["status"] == "failed" and "503" in entry["error"]
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json")
    target_proxy.clear()
    again = _mirror(sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r2.json"))
    assert again.returncode == 0, again.stderr
    doc = json.loads((tmp_path / "r2.json").read_text())
    assert doc["artifacts"][0]["digest"] == expected
    assert doc["summary"]["bytes_copied"] < 200_000, "the blobs that landed in the failed run were not sent again"
