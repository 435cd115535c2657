"""The Helmfile environment snippet that points nvcf-self-managed-stack at the mirror."""

from __future__ import annotations

import yaml

from provider_helper.oci.reference import Target


def helm_values(target: Target) -> str:
    """``global.image.registry`` / ``global.image.repository`` for images, and the OCI chart source."""
    doc = {
        "global": {
            "image": {"registry": target.registry, "repository": target.prefix},
            "helm": {"sources": [{"name": "nvcf-mirror", "type": "oci", "url": f"oci://{target}"}]},
        }
    }
    header = f"# nvcf-self-managed-stack environment values: images and charts from {target}\n"
    return header + yaml.safe_dump(doc, sort_keys=False)
