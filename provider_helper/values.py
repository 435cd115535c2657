"""The Helmfile environment snippet that points the NVCF stacks at the mirror, in the keys each release takes.

v0.5 (and a manifest of one's own): ``global.image`` and a list of chart sources. From v0.6.0 on the
stacks read ``global.image``, one OCI chart location ``global.helm.sources.registry`` / ``.repository``,
and per-image overrides for the images that do not fall back to ``global.image``: the NATS config
reloader (``nats.reloader.image``) and the account-bootstrap utilities (``api.accountBootstrap.image``)
default to Docker Hub, so each gets ``registry``, ``repository`` and ``tag``; Cassandra's two images
(``cassandra.image``, ``cassandra.dynamicSeedDiscovery.image``) fall back to ``global.image`` and are
written only where the mirror's path is not ``<repository>/cassandra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from provider_helper.oci.reference import Reference, Target

LEGACY_RELEASES = (None, "v0.5")
# target name -> the dotted values key whose image block it fills (each falls back to Docker Hub)
DOCKER_HUB_OVERRIDES = {
    "nats-server-config-reloader": "nats.reloader.image",
    "alpine-k8s": "api.accountBootstrap.image",
}
CASSANDRA_KEYS = ("cassandra.image", "cassandra.dynamicSeedDiscovery.image")


def helm_values(target: Target, release: str | None = None, images: Sequence[tuple[str, Reference]] = ()) -> str:
    """The values for ``release``; ``images``: (source repository's last path component, target reference)
    of every selected image, for the per-image overrides."""
    if release in LEGACY_RELEASES:
        doc: dict[str, Any] = {
            "global": {
                "image": {"registry": target.registry, "repository": target.prefix},
                "helm": {"sources": [{"name": "nvcf-mirror", "type": "oci", "url": f"oci://{target}"}]},
            }
        }
        header = f"# nvcf-self-managed-stack environment values: images and charts from {target}\n"
        return header + yaml.safe_dump(doc, sort_keys=False)
    doc = {
        "global": {
            "image": {"registry": target.registry, "repository": target.prefix},
            "helm": {"sources": {"registry": target.registry, "repository": target.prefix}},
        }
    }
    for source_name, ref in images:
        name = ref.repository.rsplit("/", 1)[-1]
        if name in DOCKER_HUB_OVERRIDES:
            _put(
                doc,
                DOCKER_HUB_OVERRIDES[name],
                {"registry": ref.registry, "repository": ref.repository, "tag": ref.tag},
            )
        elif source_name == "cassandra" and name != "cassandra":
            for key in CASSANDRA_KEYS:
                _put(doc, key, {"registry": ref.registry, "repository": ref.repository, "tag": ref.tag})
    header = f"# NVCF {release} Helmfile environment values (every stack): images and charts from {target}\n"
    return header + yaml.safe_dump(doc, sort_keys=False)


def _put(doc: dict[str, Any], dotted: str, value: dict[str, Any]) -> None:
    node = doc
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
