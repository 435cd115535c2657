"""The local stack: an nvcr.io-like source, an ECR-like target, and credentials for both."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import secrets
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from provider_helper.artifacts import Artifact
from provider_helper.sandbox.aws import ECR_PASSWORD, MotoServer
from provider_helper.sandbox.aws import ECR_USER as TARGET_USER
from provider_helper.sandbox.images import FORMATS, Factory, Pushed
from provider_helper.sandbox.ngcserver import NgcStandIn
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
        self.source = LocalRegistry(
            self.workdir / "source", auth=token_auth(self.tokens, self.workdir / "source")
        ).start()
        users = {TARGET_USER: self.target_password}
        self.target = LocalRegistry(self.workdir / "target", auth=htpasswd_auth(users, self.workdir / "target")).start()
        self.docker_config = self.workdir / "docker"
        self.docker_config.mkdir(exist_ok=True)
        auth = base64.b64encode(f"{TARGET_USER}:{self.target_password}".encode()).decode()
        (self.docker_config / "config.json").write_text(json.dumps({"auths": {self.target.host: {"auth": auth}}}))
        # the NGC API stand-in takes the registry's key, as NGC does
        self.ngc = NgcStandIn(personal_key=self.api_key, legacy_key="legacy-" + secrets.token_urlsafe(16))
        return self

    def stop(self) -> None:
        for part in ("target", "source", "aws"):
            if hasattr(self, part):
                getattr(self, part).stop()
        if hasattr(self, "tokens"):
            self.tokens.stop()
        if hasattr(self, "ngc"):
            self.ngc.close()

    def ngc_env(self) -> dict[str, str]:
        """The NGC API stand-in for ``resources download`` (and resources in ``mirror``)."""
        return {"NVCF_MIRROR_NGC_API_URL": self.ngc.url, "NVCF_MIRROR_NGC_AUTHN_URL": self.ngc.url}

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


def seed_resources(ngc: NgcStandIn, artifacts: Iterable[Artifact]) -> list[str]:
    """Publish a stand-in for every NGC resource of ``artifacts`` as the ngc CLI finds them: nvcf-cli one
    archive per platform (``linux-amd64/nvcf-cli-linux-amd64-0.0.22.tar.gz``), the others one archive
    holding a folder named for the resource (``nvcf-base-0.1.4.tar.gz``: ``nvcf-base/…``). Returns their references."""
    published = []
    for artifact in artifacts:
        ref = artifact.resource
        if ref is None or artifact.needs_version:
            continue
        name, version = ref.name, ref.version
        if name == "nvcf-cli":
            stub = b"#!/bin/sh\necho stand-in\n"
            files = {
                f"{p}/{name}-{p}-{version}.tar.gz": _tgz({f"{name}-{p}-{version}/{name}": stub})
                for p in ("linux-amd64", "linux-arm64")
            }
        else:
            files = {
                f"{name}-{version}.tar.gz": _tgz(
                    {f"{name}/README.md": f"stand-in for {ref}\n".encode(), f"{name}/main.tf": b"# a stand-in\n"}
                )
            }
        ngc.resources[str(ref)] = files
        published.append(str(ref))
    return published


def _tgz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o755 if path.endswith("/nvcf-cli") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


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
