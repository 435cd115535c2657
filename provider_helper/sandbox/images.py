"""Synthesise images, multi-arch indexes, attestations and Helm charts straight into a registry.

Written with plain httpx calls, independent of the client under test, so that a bug in the
product cannot hide itself by being used to build its own fixtures.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_RAW = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
IN_TOTO = "application/vnd.in-toto+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
COSIGN_SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE = "dev.cosignproject.cosign/signature"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
SPDX = "application/spdx+json"

FORMATS = {
    "oci": (OCI_MANIFEST, OCI_INDEX, OCI_CONFIG, OCI_LAYER),
    "docker": (DOCKER_MANIFEST, DOCKER_LIST, DOCKER_CONFIG, DOCKER_LAYER),
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Pushed:
    digest: str
    size: int
    media_type: str

    def descriptor(self, **extra: object) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


class Factory:
    """Pushes synthetic content to one registry; ``authorize(repo)`` gives the Authorization header."""

    def __init__(self, base_url: str, authorize: Callable[[str], str]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.authorize = authorize

    def close(self) -> None:
        self.http.close()

    def _headers(self, repo: str, **extra: str) -> dict[str, str]:
        return {"Authorization": self.authorize(repo), **extra}

    # -- blobs -------------------------------------------------------------------------------

    def blob(self, repo: str, data: bytes, media_type: str) -> Pushed:
        digest = sha256(data)
        start = self.http.post(f"/v2/{repo}/blobs/uploads/", headers=self._headers(repo))
        start.raise_for_status()
        done = self.http.put(
            _with_digest(start.headers["location"], digest),
            content=data,
            headers=self._headers(repo, **{"Content-Type": "application/octet-stream"}),
        )
        done.raise_for_status()
        return Pushed(digest, len(data), media_type)

    def large_blob(self, repo: str, size: int, media_type: str = OCI_LAYER_RAW, chunk: int = 4 << 20) -> Pushed:
        """Random content streamed in one PATCH, hashed on the way: memory stays at one chunk."""
        hasher = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            left = size
            while left:
                piece = os.urandom(min(chunk, left))
                hasher.update(piece)
                left -= len(piece)
                yield piece

        start = self.http.post(f"/v2/{repo}/blobs/uploads/", headers=self._headers(repo))
        start.raise_for_status()
        patched = self.http.patch(
            start.headers["location"],
            content=chunks(),
            headers=self._headers(repo, **{"Content-Type": "application/octet-stream"}),
        )
        patched.raise_for_status()
        digest = "sha256:" + hasher.hexdigest()
        done = self.http.put(_with_digest(patched.headers["location"], digest), headers=self._headers(repo))
        done.raise_for_status()
        return Pushed(digest, size, media_type)

    def layer(self, repo: str, size: int, fmt: str = "oci") -> Pushed:
        return self.blob(repo, gzip.compress(os.urandom(size), compresslevel=1), FORMATS[fmt][3])

    def tar_layer(self, repo: str, size: int, fmt: str = "oci") -> tuple[Pushed, str]:
        """A layer a container runtime can unpack (a gzipped tar of one random file), and its diff ID."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(f"data/{os.urandom(4).hex()}")
            info.size = size
            tar.addfile(info, io.BytesIO(os.urandom(size)))
        layer = self.blob(repo, gzip.compress(buffer.getvalue(), compresslevel=1), FORMATS[fmt][3])
        return layer, sha256(buffer.getvalue())

    # -- manifests ---------------------------------------------------------------------------

    def manifest(self, repo: str, reference: str, body: dict[str, Any], media_type: str) -> Pushed:
        data = json.dumps(body, indent=3).encode()  # not the product's encoding: digests must come from bytes
        response = self.http.put(
            f"/v2/{repo}/manifests/{reference}",
            content=data,
            headers=self._headers(repo, **{"Content-Type": media_type}),
        )
        response.raise_for_status()
        return Pushed(sha256(data), len(data), media_type)

    def image(
        self,
        repo: str,
        tag: str | None,
        *,
        platform: str = "linux/amd64",
        fmt: str = "oci",
        layer_sizes: tuple[int, ...] = (2048,),
        shared: tuple[Pushed, ...] = (),
        extra_layers: tuple[Pushed, ...] = (),
        runnable: bool = False,
    ) -> Pushed:
        """An image manifest; pushed by digest when ``tag`` is None. ``runnable``: layers are real tars with
        their diff IDs in the config, so that podman, buildah and containerd can unpack it."""
        manifest_type, _, config_type, _ = FORMATS[fmt]
        if runnable:
            unpacked = [self.tar_layer(repo, n, fmt) for n in layer_sizes]
            layers, diff_ids = [layer for layer, _ in unpacked], [diff_id for _, diff_id in unpacked]
        else:
            layers = [*shared, *(self.layer(repo, n, fmt) for n in layer_sizes), *extra_layers]
            diff_ids = [layer.digest for layer in layers]
        os_, arch, *variant = platform.split("/")
        config = {
            "architecture": arch,
            "os": os_,
            **({"variant": variant[0]} if variant else {}),
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {"Labels": {"org.opencontainers.image.title": repo.rsplit("/", 1)[-1]}},
        }
        config_blob = self.blob(repo, json.dumps(config).encode(), config_type)
        body = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": config_blob.descriptor(),
            "layers": [x.descriptor() for x in layers],
        }
        return self.manifest(repo, tag or _digest_of_body(body), body, manifest_type)

    def attestation(self, repo: str, subject: Pushed) -> Pushed:
        """A buildx-style provenance manifest for ``subject`` (pushed by digest)."""
        statement = self.blob(
            repo,
            json.dumps(
                {"_type": "https://in-toto.io/Statement/v0.1", "subject": [{"digest": {"sha256": subject.digest[7:]}}]}
            ).encode(),
            IN_TOTO,
        )
        config = self.blob(
            repo,
            json.dumps(
                {
                    "architecture": "unknown",
                    "os": "unknown",
                    "rootfs": {"type": "layers", "diff_ids": [statement.digest]},
                }
            ).encode(),
            OCI_CONFIG,
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [
                statement.descriptor(annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"})
            ],
        }
        return self.manifest(repo, _digest_of_body(body), body, OCI_MANIFEST)

    def index(
        self,
        repo: str,
        tag: str,
        *,
        platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"),
        fmt: str = "oci",
        attestations: bool = True,
        shared: tuple[Pushed, ...] = (),
        layer_sizes: tuple[int, ...] = (2048,),
        runnable: bool = False,
    ) -> tuple[Pushed, dict[str, Pushed]]:
        """A multi-arch index; returns it and the per-platform image manifests."""
        _, index_type, _, _ = FORMATS[fmt]
        children: dict[str, Pushed] = {}
        entries = []
        for platform in platforms:
            image = self.image(
                repo, None, platform=platform, fmt=fmt, shared=shared, layer_sizes=layer_sizes, runnable=runnable
            )
            children[platform] = image
            os_, arch, *variant = platform.split("/")
            entries.append(
                image.descriptor(
                    platform={"architecture": arch, "os": os_, **({"variant": variant[0]} if variant else {})}
                )
            )
        if attestations and fmt == "oci":
            for image in list(children.values()):
                att = self.attestation(repo, image)
                entries.append(
                    att.descriptor(
                        platform={"architecture": "unknown", "os": "unknown"},
                        annotations={
                            "vnd.docker.reference.digest": image.digest,
                            "vnd.docker.reference.type": "attestation-manifest",
                        },
                    )
                )
        body = {"schemaVersion": 2, "mediaType": index_type, "manifests": entries}
        return self.manifest(repo, tag, body, index_type), children

    def cosign(self, repo: str, subject: Pushed, suffix: str = ".sig") -> Pushed:
        """What ``cosign sign|attest|attach sbom`` stores for ``subject``: a manifest under the tag
        ``sha256-<hex><suffix>`` whose layer is the signed payload, the signature in an annotation."""
        payload, media_type, annotations = {
            ".sig": (
                json.dumps(
                    {
                        "critical": {
                            "identity": {"docker-reference": repo},
                            "image": {"docker-manifest-digest": subject.digest},
                            "type": "cosign container image signature",
                        },
                        "optional": None,
                    }
                ).encode(),
                COSIGN_SIMPLESIGNING,
                {COSIGN_SIGNATURE: base64.b64encode(os.urandom(64)).decode()},
            ),
            ".att": (
                json.dumps(
                    {
                        "payloadType": "application/vnd.in-toto+json",
                        "payload": base64.b64encode(subject.digest.encode()).decode(),
                        "signatures": [{"sig": base64.b64encode(os.urandom(64)).decode()}],
                    }
                ).encode(),
                DSSE_ENVELOPE,
                {"predicateType": "https://slsa.dev/provenance/v1"},
            ),
            ".sbom": (json.dumps({"spdxVersion": "SPDX-2.3", "name": repo, "packages": []}).encode(), SPDX, {}),
        }[suffix]
        layer = self.blob(repo, payload, media_type)
        config = self.blob(
            repo,
            json.dumps(
                {"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": [layer.digest]}}
            ).encode(),
            OCI_CONFIG,
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layer.descriptor(annotations=annotations)],
        }
        return self.manifest(repo, subject.digest.replace(":", "-") + suffix, body, OCI_MANIFEST)

    def referrer(self, repo: str, subject: Pushed, artifact_type: str = SPDX) -> Pushed:
        """An OCI 1.1 referrer of ``subject``, pushed by digest and listed (as oras does on a registry
        without the referrers API) in the index under the fallback tag ``sha256-<hex>``."""
        empty = self.blob(repo, b"{}", OCI_EMPTY)
        layer = self.blob(
            repo, json.dumps({"spdxVersion": "SPDX-2.3", "subject": subject.digest}).encode(), artifact_type
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty.descriptor(),
            "layers": [layer.descriptor()],
            "subject": subject.descriptor(),
        }
        pushed = self.manifest(repo, _digest_of_body(body), body, OCI_MANIFEST)
        tag = subject.digest.replace(":", "-")
        listed = self.http.get(f"/v2/{repo}/manifests/{tag}", headers=self._headers(repo, Accept=OCI_INDEX))
        entries = listed.json()["manifests"] if listed.status_code == 200 else []
        entries.append(pushed.descriptor(artifactType=artifact_type))
        self.manifest(repo, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX)
        return pushed

    def chart(self, repo: str, version: str, *, name: str | None = None) -> Pushed:
        """A Helm chart as ``helm push`` stores it."""
        name = name or repo.rsplit("/", 1)[-1]
        chart_yaml = f"apiVersion: v2\nname: {name}\nversion: {version}\ndescription: synthetic chart\n"
        archive = chart_archive(name, {"Chart.yaml": chart_yaml, "values.yaml": "replicaCount: 1\n"})
        layer = self.blob(repo, archive, HELM_CHART)
        config = self.blob(
            repo, json.dumps({"apiVersion": "v2", "name": name, "version": version}).encode(), HELM_CONFIG
        )
        body = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layer.descriptor()],
            "annotations": {"org.opencontainers.image.title": name, "org.opencontainers.image.version": version},
        }
        return self.manifest(repo, version.replace("+", "_"), body, OCI_MANIFEST)


def chart_archive(name: str, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _with_digest(location: str, digest: str) -> httpx.URL:
    return httpx.URL(location).copy_merge_params({"digest": digest})


def _digest_of_body(body: dict[str, Any]) -> str:
    return sha256(json.dumps(body, indent=3).encode())
