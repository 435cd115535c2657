"""moto server as the ECR and STS control plane (moto does not implement the registry API)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from provider_helper.sandbox.registry import free_port

# What moto's GetAuthorizationToken decodes to: the ECR-like target registry uses it as its password.
ECR_USER = "AWS"
ECR_PASSWORD = "123456789012-auth-token"
REGION = "us-east-1"


@dataclass
class MotoServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        program = shutil.which("moto_server")
        command = [program] if program else [sys.executable, "-m", "moto.server"]
        log = (self.workdir / "moto.log").open("ab")
        self._process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited; see {self.workdir / 'moto.log'}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("moto server did not start")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)

    def reset(self) -> None:
        httpx.post(f"{self.url}/moto-api/reset")

    def env(self) -> dict[str, str]:
        """Standard AWS SDK variables pointing boto3 (and the AWS CLI) at this server."""
        return {
            "AWS_ENDPOINT_URL_ECR": self.url, "AWS_ENDPOINT_URL_STS": self.url,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        }
