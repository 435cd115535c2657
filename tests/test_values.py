"""Unit tests of provider_helper/values.py: the Helmfile environment snippet that points the stacks at the mirror."""

from __future__ import annotations

from pathlib import Path

import yaml


def test_values_override_the_cassandra_images_where_the_mirror_renames_them(tmp_path: Path) -> None:
    from provider_helper.oci.reference import Reference, Target
    from provider_helper.values import helm_values

    renamed = Reference("r.example", "c1/nvcf-cassandra", "5.0.9-nv-2.0.5")
    values = yaml.safe_load(helm_values(Target("r.example", "c1"), "v1.0", [("cassandra", renamed)]))
    block = {"registry": "r.example", "repository": "c1/nvcf-cassandra", "tag": "5.0.9-nv-2.0.5"}
    assert values["cassandra"] == {"image": block, "dynamicSeedDiscovery": {"image": block}}
