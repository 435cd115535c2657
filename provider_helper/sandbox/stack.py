"""The local stack: an nvcr.io-like source, an ECR-like target, and credentials for both."""

from __future__ import annotations

import base64
import gzip
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from provider_helper.manifest import Artifact
from provider_helper.sandbox.aws import ECR_PASSWORD, MotoServer
from provider_helper.sandbox.aws import ECR_USER as TARGET_USER
from provider_helper.sandbox.images import FORMATS, Factory, Pushed
from provider_helper.sandbox.registry import LocalRegistry, htpasswd_auth, token_auth
from provider_helper.sandbox.tokens import TokenServer


@dataclass
class Sandbox:
    workdir: Path
    api_key: str = field(default_factory=lambda: "nvapi-" + secrets.token_urlsafe(24))
    target_password: str = ECR_PASSWORD  # the target stands in for ECR's data plane: moto's token logs in

    def start(self) -> Sandbox:
        self.aws = MotoServer(self.workdir / "moto").start()
        self.tokens = TokenServer(api_key=self.api_key).start()
        self.source = LocalRegistry(self.workdir / "source", auth=token_auth(self.tokens, self.workdir / "source")).start()
        users = {TARGET_USER: self.target_password}
        self.target = LocalRegistry(self.workdir / "target", auth=htpasswd_auth(users, self.workdir / "target")).start()
        self.docker_config = self.workdir / "docker"
        self.docker_config.mkdir(exist_ok=True)
        auth = base64.b64encode(f"{TARGET_USER}:{self.target_password}".encode()).decode()
        (self.docker_config / "config.json").write_text(json.dumps({"auths": {self.target.host: {"auth": auth}}}))
        return self

    def stop(self) -> None:
        for part in ("target", "source", "aws"):
            if hasattr(self, part):
                getattr(self, part).stop()
        if hasattr(self, "tokens"):
            self.tokens.stop()

    def env(self) -> dict[str, str]:
        """What a mirror run needs in its environment: the NGC key and the target's auth file."""
        return {"NGC_API_KEY": self.api_key, "DOCKER_CONFIG": str(self.docker_config)}

    def ecr_env(self) -> dict[str, str]:
        """For an ECR target: the NGC key and the AWS endpoint variables, and no Docker auth file."""
        return {"NGC_API_KEY": self.api_key, **self.aws.env()}

    def source_factory(self) -> Factory:
        return Factory(self.source.url, lambda repo: "Bearer " + self.tokens.mint([repo]))

    def target_factory(self) -> Factory:
        basic = base64.b64encode(f"{TARGET_USER}:{self.target_password}".encode()).decode()
        return Factory(self.target.url, lambda repo: "Basic " + basic)


def seed(factory: Factory, artifacts: Iterable[Artifact], layer_size: int = 64 * 1024) -> dict[str, Pushed]:
    """Push an NVCF-like stand-in for every image and OCI chart of ``artifacts``.

    Images vary the way NGC's do: OCI indexes with attestations, Docker manifest lists, and
    single-platform images; all share a base layer. Returns the pushed top manifests by key.
    """
    pushed: dict[str, Pushed] = {}
    base_layer = gzip.compress(os.urandom(layer_size), compresslevel=1)
    images = [(a, a.image) for a in artifacts if a.image is not None and not a.needs_version]
    for n, (artifact, image) in enumerate(images):
        repo, tag = image.repository, image.tag or "latest"
        if artifact.type == "chart":
            pushed[artifact.key] = factory.chart(repo, tag, name=image.name)
            continue
        fmt = "docker" if n % 3 == 2 else "oci"
        shared = (factory.blob(repo, base_layer, FORMATS[fmt][3]),)
        if n % 5 == 4:
            pushed[artifact.key] = factory.image(repo, tag, fmt=fmt, shared=shared, layer_sizes=(layer_size,))
        else:
            pushed[artifact.key], _ = factory.index(repo, tag, fmt=fmt, shared=shared, layer_sizes=(layer_size,))
    return pushed
