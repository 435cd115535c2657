"""Unit tests of provider_helper/values.py: the Helmfile environment snippet that points the stacks at the mirror."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from provider_helper.oci.reference import parse_reference, parse_target
from provider_helper.values import helm_values


def test_values_override_the_cassandra_images_where_the_mirror_renames_them(tmp_path: Path) -> None:
    from provider_helper.oci.reference import Reference, Target
    from provider_helper.values import helm_values

    renamed = Reference("r.example", "c1/nvcf-cassandra", "5.0.9-nv-2.0.5")
    values = yaml.safe_load(helm_values(Target("r.example", "c1"), "v1.0", [("cassandra", renamed)]))
    block = {"registry": "r.example", "repository": "c1/nvcf-cassandra", "tag": "5.0.9-nv-2.0.5"}
    assert values["cassandra"] == {"image": block, "dynamicSeedDiscovery": {"image": block}}


TARGET = parse_target("registry.internal:5000/nvcf")


def _values(*images: tuple[str, str]) -> Any:
    return yaml.safe_load(helm_values(TARGET, "v0.6.0", [(name, parse_reference(ref)) for name, ref in images]))


def test_the_nats_reloader_and_account_bootstrap_images_get_their_own_keys_from_v0_6_0_on() -> None:
    """README values: "From v0.6.0 on: ... the per-image overrides the stacks need: nats.reloader.image and
    api.accountBootstrap.image, each with registry, repository and tag"."""
    values = _values(
        ("nats-server-config-reloader", "registry.internal:5000/nvcf/nats-server-config-reloader:0.16.0"),
        ("k8s", "registry.internal:5000/nvcf/alpine-k8s:1.30.4"),
        ("nats", "registry.internal:5000/nvcf/nats:2.10.22"),
    )
    assert values["nats"] == {
        "reloader": {
            "image": {
                "registry": "registry.internal:5000",
                "repository": "nvcf/nats-server-config-reloader",
                "tag": "0.16.0",
            }
        }
    }
    assert values["api"] == {
        "accountBootstrap": {
            "image": {"registry": "registry.internal:5000", "repository": "nvcf/alpine-k8s", "tag": "1.30.4"}
        }
    }


def test_cassandra_keys_are_written_only_where_the_mirror_path_is_not_repository_slash_cassandra() -> None:
    """README values: "cassandra.image and cassandra.dynamicSeedDiscovery.image only where the mirror's path
    is not <repository>/cassandra"."""
    assert "cassandra" not in _values(("cassandra", "registry.internal:5000/nvcf/cassandra:5.0.2"))
    image = {"registry": "registry.internal:5000", "repository": "nvcf/bitnami-cassandra", "tag": "5.0.2"}
    assert _values(("cassandra", "registry.internal:5000/nvcf/bitnami-cassandra:5.0.2"))["cassandra"] == {
        "image": image,
        "dynamicSeedDiscovery": {"image": image},
    }


def test_v0_5_values_point_global_image_and_an_oci_chart_source_at_the_mirror() -> None:
    """README values: "v0.5 (and `--manifest` files): `global.image` and a chart source list": the chart source
    is the mirror as an OCI repository (``oci://host/prefix``), which Helm pulls charts from."""
    for release in ("v0.5", None):
        values = yaml.safe_load(helm_values(TARGET, release))
        assert values["global"]["image"] == {"registry": "registry.internal:5000", "repository": "nvcf"}
        sources = values["global"]["helm"]["sources"]
        assert sources == [{"name": "nvcf-mirror", "type": "oci", "url": "oci://registry.internal:5000/nvcf"}]


def test_from_v0_6_0_on_the_values_are_global_image_and_one_oci_chart_location_with_a_header_naming_the_mirror() -> (
    None
):
    """README values: "From v0.6.0 on: global.image.registry / .repository, the one OCI chart location
    global.helm.sources.registry / .repository (the stacks read every chart from there, classic ones
    included)". The whole text, for an image that takes no override."""
    for release in ("v0.6.0", "v0.6.1", "v1.0"):
        text = helm_values(
            TARGET, release, [("nvcf-api", parse_reference("registry.internal:5000/nvcf/nvcf-api:1.27.1"))]
        )
        assert text == (
            f"# NVCF {release} Helmfile environment values (every stack): images and charts from "
            "registry.internal:5000/nvcf\n"
            "global:\n"
            "  image:\n"
            "    registry: registry.internal:5000\n"
            "    repository: nvcf\n"
            "  helm:\n"
            "    sources:\n"
            "      registry: registry.internal:5000\n"
            "      repository: nvcf\n"
        )


def test_v0_5_values_are_the_whole_documented_snippet_with_its_header() -> None:
    assert helm_values(TARGET, "v0.5") == (
        "# nvcf-self-managed-stack environment values: images and charts from registry.internal:5000/nvcf\n"
        "global:\n"
        "  image:\n"
        "    registry: registry.internal:5000\n"
        "    repository: nvcf\n"
        "  helm:\n"
        "    sources:\n"
        "    - name: nvcf-mirror\n"
        "      type: oci\n"
        "      url: oci://registry.internal:5000/nvcf\n"
    )
