"""Helpers shared by the tests: run the CLI as a user would, read back with skopeo."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``nvcf-mirror`` as a user would: a separate process, no TTY."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NGC_API_KEY", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    full_env.update(env or {})
    done = subprocess.run([sys.executable, "-m", "provider_helper", *args], env=full_env, capture_output=True, text=True, timeout=timeout)
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


def tgz(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A .tar.gz of ``files`` (name -> bytes) and symbolic ``links`` (name -> target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()
