"""Synthesise images, multi-arch indexes, attestations and Helm charts straight into a registry.

Written with plain httpx calls, independent of the client under test, so that a bug in the
product cannot hide itself by being used to build its own fixtures.
"""

from __future__ import annotations

import io
import json
import tarfile

from provider_helper.sandbox.attachments import Attaching
from provider_helper.sandbox.mediatypes import (
    DOCKER_LAYER,
    FORMATS,
    HELM_CHART,
    HELM_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_RAW,
    OCI_MANIFEST,
    Pushed,
)
from provider_helper.sandbox.pushing import digest_of_body

# What the tests import from here, as before the media types had a module of their own.
__all__ = [
    "DOCKER_LAYER",
    "FORMATS",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_RAW",
    "OCI_MANIFEST",
    "Factory",
    "Pushed",
    "chart_archive",
]


class Factory(Attaching):
    """Pushes synthetic content to one registry; ``authorize(repo)`` gives the Authorization header."""

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
        return self.manifest(repo, tag or digest_of_body(body), body, manifest_type)

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
