"""Unit tests of provider_helper/session.py, a run's settings and the clients it builds from them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml
from hostile import Reply, ScriptedServer

from provider_helper.session import RunConfig


def test_the_mirror_of_helm_ngc_nvidia_com_is_offered_ngc_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Credentials: "`NGC_API_KEY` (user `$oauthtoken`) for `nvcr.io` ..., for the NGC API and for the
    mirror of `helm.ngc.nvidia.com`". A private Helm repository standing in for helm.ngc.nvidia.com (through
    `--source-map`) that asks for credentials: the run answers with `$oauthtoken` and the key, and reads the
    index. The repository is a scripted server (plain HTTP, as a mapped loopback host is read) that answers 401
    to any other authorization."""
    key = "nvapi-" + os.urandom(8).hex()
    monkeypatch.setenv("NGC_API_KEY", key)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    expected = "Basic " + base64.b64encode(f"$oauthtoken:{key}".encode()).decode()
    index = yaml.safe_dump({"apiVersion": "v1", "entries": {"app": [{"version": "1.0.0", "urls": ["a.tgz"]}]}})

    def route(server: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != expected:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="charts"'})
        return Reply(200, {"Content-Type": "application/x-yaml"}, index.encode())

    server = ScriptedServer("127.0.0.1", route)
    servers.append(server)
    config = RunConfig(
        target="registry.example/p",
        target_type="generic",
        source_map=(f"helm.ngc.nvidia.com={server.host}",),
    )
    try:
        assert config.helm.versions("https://helm.ngc.nvidia.com/nvidia/nvcf", "app") == ["1.0.0"]
    finally:
        config.helm.close()
    assert server.authorizations() == [expected], "asked without credentials first, then with the key"
    assert [seen.path for seen in server.seen] == ["/nvidia/nvcf/index.yaml"] * 2
