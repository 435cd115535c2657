"""provider_helper/oci/reference.py: references read as Docker reads them, and the target naming rule."""

from __future__ import annotations

from provider_helper.oci.reference import Reference, parse_reference, parse_target


def test_localhost_is_a_registry_host_not_a_docker_hub_namespace() -> None:
    """README Sources: "one whose first part is not a host (no . or :, not localhost) is on Docker Hub":
    ``localhost/app`` is on the registry at localhost; a first part without ``.`` or ``:`` that is not
    localhost is a Docker Hub namespace."""
    assert parse_reference("localhost/app:1") == Reference("localhost", "app", tag="1")
    assert parse_reference("localhost/team/app:1") == Reference("localhost", "team/app", tag="1")
    assert parse_reference("localhostx/app:1") == Reference("docker.io", "localhostx/app", tag="1")


def test_a_target_without_a_prefix_puts_each_artifact_at_the_registry_root() -> None:
    """CONTRACTS Target naming: "No prefix: {registry}/{name}:{tag}"."""
    bare = parse_target("registry.internal:5000")
    assert str(bare.reference("nvcf-base", "1.2.3")) == "registry.internal:5000/nvcf-base:1.2.3"
    assert bare.repository("nvcf-base") == "nvcf-base"
    prefixed = parse_target("registry.internal:5000/cluster")
    assert str(prefixed.reference("nvcf-base", "1.2.3")) == "registry.internal:5000/cluster/nvcf-base:1.2.3"
