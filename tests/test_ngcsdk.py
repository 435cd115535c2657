"""NVIDIA's own NGC client (ngcsdk) against the NGC stand-in, and nvcf-mirror against the same stand-in:
if the stand-in drifts from what ngcsdk expects, or nvcf-mirror from the stand-in, a test here fails.

ngcsdk insists on https, so the stand-in serves TLS with a test CA; ngcsdk runs in a process of its
own with a HOME of its own (it writes a config there)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, tgz, write_manifest
from testca import LocalCa, make_ca

from provider_helper.sandbox.ngcserver import NgcStandIn

ORG = "0833294136851237"
BASE = f"{ORG}/nvcf-ncp-staging/nvcf-base:0.1.4"
CLI = f"{ORG}/nvcf-ncp-staging/nvcf-cli:0.0.24"

NGCSDK_DOWNLOAD = """
import sys, ngcsdk
client = ngcsdk.Client()
client.configure(api_key=sys.argv[1], org_name=sys.argv[2])
for target in sys.argv[4:]:
    result = client.registry.resource.download_version(target, destination=sys.argv[3])
    if result.status != "Completed":
        sys.exit(f"{target}: {result.status}")
"""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCa:
    return make_ca(tmp_path_factory.mktemp("ngc-ca"))


@pytest.fixture
def ngc(ca: LocalCa) -> Iterator[NgcStandIn]:
    server = NgcStandIn(
        personal_key="nvapi-" + os.urandom(12).hex(), legacy_key=os.urandom(16).hex(), tls=ca.server_context()
    )
    server.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": tgz({"nvcf-base/main.tf": b"# terraform\n" * 500})}
    server.resources[CLI] = {
        f"{p}/nvcf-cli-{p}-0.0.24.tar.gz": os.urandom(70_000) for p in ("linux-amd64", "linux-arm64", "darwin-arm64")
    }
    yield server
    server.close()


def _ngcsdk_download(ngc: NgcStandIn, ca: LocalCa, key: str, dest: Path, home: Path) -> None:
    dest.mkdir()
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "NGC_CLI_API_URL": ngc.url,
        "NGC_CLI_AUTH_URL": ngc.url,
        "SSL_CERT_FILE": str(ca.ca),
        "REQUESTS_CA_BUNDLE": str(ca.ca),
    }
    env.pop("NGC_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", NGCSDK_DOWNLOAD, key, ORG, str(dest), BASE, CLI],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"ngcsdk could not download from the stand-in:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.mark.ngcsdk
@pytest.mark.parametrize("key_kind", ["personal", "legacy"])
def test_ngcsdk_and_nvcf_mirror_download_identical_files_from_the_stand_in(
    ngc: NgcStandIn, ca: LocalCa, tmp_path: Path, key_kind: str
) -> None:
    key = ngc.personal_key if key_kind == "personal" else ngc.legacy_key
    _ngcsdk_download(ngc, ca, key, tmp_path / "by-ngcsdk", tmp_path / "home")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "resource", "source": s, "group": "r"} for s in (BASE, CLI)],
        groups=[{"name": "r"}],
    )
    done = run_cli(
        "resources",
        "download",
        "--manifest",
        str(manifest),
        "--dest",
        str(tmp_path / "by-nvcf-mirror"),
        "--ca-file",
        str(ca.ca),
        env={"NGC_API_KEY": key, "NVCF_MIRROR_NGC_API_URL": ngc.url, "NVCF_MIRROR_NGC_AUTHN_URL": ngc.url},
    )
    assert done.returncode == 0, done.stderr
    by_ngcsdk, by_us = _tree(tmp_path / "by-ngcsdk"), _tree(tmp_path / "by-nvcf-mirror")
    assert len(by_ngcsdk) == 4
    assert by_us == by_ngcsdk
    assert key not in done.stdout + done.stderr
