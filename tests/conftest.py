"""Shared fixtures: one local stack per test session (real Distribution registries, token server)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    stack = Sandbox(tmp_path_factory.mktemp("sandbox")).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def source(sandbox: Sandbox) -> Iterator[Factory]:
    factory = sandbox.source_factory()
    yield factory
    factory.close()


@pytest.fixture
def ns() -> str:
    """A unique repository namespace, so tests sharing the session's registries never collide."""
    return "t" + uuid.uuid4().hex[:10]


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``nvcf-mirror`` as a user would: a separate process, no TTY."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NGC_API_KEY", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    full_env.update(env or {})
    done = subprocess.run([sys.executable, "-m", "provider_helper", *args], env=full_env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"nvcf-mirror {' '.join(args)} exited {done.returncode}\n{done.stderr}")
    return done


def skopeo_raw(reference: str, *, authfile: Path | None = None, creds: str | None = None) -> bytes:
    """The manifest bytes as skopeo (an independent client) reads them."""
    cmd = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
    if authfile:
        cmd += ["--authfile", str(authfile)]
    if creds:
        cmd += ["--creds", creds]
    done = subprocess.run([*cmd, f"docker://{reference}"], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise LookupError(done.stderr.decode(errors="replace").strip())
    return done.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_manifest(path: Path, artifacts: list[dict], groups: list[dict] | None = None) -> Path:
    doc = {"apiVersion": "nvcf-mirror/v1", "groups": groups or [{"name": "test", "default": True}], "artifacts": artifacts}
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path
