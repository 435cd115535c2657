"""Start Debian's Distribution registry (``docker-registry``) on a free loopback port."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from provider_helper.sandbox.extra import require
from provider_helper.sandbox.process import ServerProcess, free_port
from provider_helper.sandbox.tokens import ISSUER, TokenServer

BINARY = "docker-registry"


@dataclass
class LocalRegistry:
    """A registry process with its own storage; ``auth`` is the Distribution ``auth:`` section."""

    workdir: Path
    auth: dict[str, Any] | None = None
    access_log: bool = False  # one line per request in registry.log (the benchmark counts them)
    tls: tuple[Path, Path] | None = None  # certificate and key: serve HTTPS
    deletes: bool = True  # storage.delete.enabled: manifest DELETE allowed (off: 405 UNSUPPORTED)
    port: int = field(default_factory=free_port)
    _process: ServerProcess | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def storage(self) -> Path:
        return self.workdir / "storage"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    def blob_path(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob: tests corrupt it there."""
        algorithm, hex_ = digest.split(":")
        return self.storage / "docker/registry/v2/blobs" / algorithm / hex_[:2] / hex_ / "data"

    def start(self) -> LocalRegistry:
        if shutil.which(BINARY) is None:
            raise RuntimeError(f"{BINARY} is not installed (Debian: apt-get install docker-registry)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": not self.access_log}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": self.deletes}},
            "http": {"addr": self.host, "secret": secrets.token_hex(16)},
        }
        if self.tls:
            config["http"]["tls"] = {"certificate": str(self.tls[0]), "key": str(self.tls[1])}
        if self.auth:
            config["auth"] = self.auth
        path = self.workdir / "config.yml"
        path.write_text(yaml.safe_dump(config))
        self._process = ServerProcess(BINARY, [BINARY, "serve", str(path)], self.log_path, f"{self.url}/v2/")
        self._process.start()
        return self

    def stop(self) -> None:
        if self._process:
            self._process.stop()


def token_auth(tokens: TokenServer, workdir: Path) -> dict[str, Any]:
    """An ``auth:`` section that trusts ``tokens`` (nvcr.io style)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cert = tokens.signing.write_cert(workdir / "token-signer.pem")
    return {"token": {"realm": tokens.realm, "service": tokens.service, "issuer": ISSUER, "rootcertbundle": str(cert)}}


def htpasswd_auth(users: dict[str, str], workdir: Path) -> dict[str, Any]:
    """An ``auth:`` section with bcrypt htpasswd users (ECR's ``AWS:<token>`` login, Harbor)."""
    bcrypt = require("bcrypt")
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "htpasswd"
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}"
        for user, password in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return {"htpasswd": {"realm": "sandbox", "path": str(path)}}
