"""moto server as the ECR and STS control plane (moto does not implement the registry API)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from provider_helper.sandbox.process import ServerProcess, free_port

# What moto's GetAuthorizationToken decodes to: the ECR-like target registry uses it as its password.
ECR_USER = "AWS"
ECR_PASSWORD = "123456789012-auth-token"
REGION = "us-east-1"


@dataclass
class MotoServer:
    workdir: Path
    port: int = field(default_factory=free_port)
    _process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        program = shutil.which("moto_server")
        command = [program] if program else [sys.executable, "-m", "moto.server"]
        self._process = ServerProcess(
            "moto server",
            [*command, "-H", "127.0.0.1", "-p", str(self.port)],
            self.workdir / "moto.log",
            f"{self.url}/moto-api/",
        )
        self._process.start()
        return self

    def stop(self) -> None:
        if self._process:
            self._process.stop()

    def reset(self) -> None:
        httpx.post(f"{self.url}/moto-api/reset")

    def env(self) -> dict[str, str]:
        """Standard AWS SDK variables pointing boto3 (and the AWS CLI) at this server."""
        return {
            "AWS_ENDPOINT_URL_ECR": self.url,
            "AWS_ENDPOINT_URL_STS": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
