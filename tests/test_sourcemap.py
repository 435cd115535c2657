"""provider_helper/sourcemap.py: where each upstream is read (--source-map, --source-registry)."""

from __future__ import annotations

import pytest

from provider_helper.errors import SettingError
from provider_helper.oci.reference import parse_reference
from provider_helper.sourcemap import SourceMap


def test_docker_hub_is_read_at_registry_1_unless_mapped_and_any_of_its_names_maps_it() -> None:
    nats = parse_reference("nats:2.10.21-alpine")
    assert str(SourceMap().source(nats)) == "registry-1.docker.io/library/nats:2.10.21-alpine"
    for name in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        mapped = SourceMap.parse([f"{name}=hub.internal:5000/cache"])
        assert str(mapped.source(nats)) == "hub.internal:5000/cache/library/nats:2.10.21-alpine", name
    assert str(SourceMap().source(parse_reference("ghcr.io/a/b:1"))) == "ghcr.io/a/b:1"


def test_source_registry_is_nvcr_io_equals_host_and_offers_the_ngc_key_there() -> None:
    both = SourceMap.parse(["quay.io=q.internal"], "127.0.0.1:5000")
    assert str(both.source(parse_reference("nvcr.io/nvidia/nvcf/x:1"))) == "127.0.0.1:5000/nvidia/nvcf/x:1"
    assert both.ngc_hosts == frozenset({"nvcr.io", "127.0.0.1:5000"})
    with pytest.raises(SettingError, match=r"nvcr\.io is also given by --source-registry"):
        SourceMap.parse(["nvcr.io=m.internal"], "127.0.0.1:5000")
    with pytest.raises(SettingError, match="expected HOST"):
        SourceMap.parse([], "127.0.0.1:5000/prefix")


def test_a_helm_repository_host_is_mapped_plain_http_on_loopback_and_https_elsewhere() -> None:
    sources = SourceMap.parse(["helm.ngc.nvidia.com=127.0.0.1:8080", "kubernetes-sigs.github.io=charts.internal/gh"])
    assert sources.url("https://helm.ngc.nvidia.com/nvidia/nvcf") == "http://127.0.0.1:8080/nvidia/nvcf"
    assert (
        sources.url("https://kubernetes-sigs.github.io/aws-ebs-csi-driver")
        == "https://charts.internal/gh/aws-ebs-csi-driver"
    )
    assert (
        sources.url("https://helm.ngc.nvidia.com/nvidia/nvcf/charts/x-1.0.tgz")
        == "http://127.0.0.1:8080/nvidia/nvcf/charts/x-1.0.tgz"
    )
    assert (
        sources.url("https://prometheus-community.github.io/helm-charts")
        == "https://prometheus-community.github.io/helm-charts"
    )


@pytest.mark.parametrize(
    ("items", "named"),
    [
        (["ghcr.io=a.internal", "ghcr.io=b.internal:5000"], "ghcr.io=b.internal:5000: ghcr.io is mapped twice"),
        (
            ["docker.io=a.internal", "index.docker.io=b.internal"],
            "index.docker.io=b.internal: docker.io is mapped twice",
        ),
    ],
)
def test_an_upstream_mapped_twice_is_one_line_and_exit_2(items: list[str], named: str) -> None:
    """README Sources: "an upstream mapped twice, or nvcr.io given both ways is one line, exit 2" (Docker Hub
    under two of its names is one upstream)."""
    from helpers import run_cli

    with pytest.raises(SettingError):
        SourceMap.parse(items)
    flags = [arg for item in items for arg in ("--source-map", item)]
    done = run_cli("plan", "--offline", "--target", "registry.internal:5000/p", *flags)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"nvcf-mirror: error: --source-map {named}"]


def test_a_mirror_host_is_written_in_lower_case_and_its_prefix_kept() -> None:
    nats = parse_reference("nats:2.10.21-alpine")
    mapped = SourceMap.parse(["Docker.IO=Hub.Internal:5000/cache/"])
    assert str(mapped.source(nats)) == "hub.internal:5000/cache/library/nats:2.10.21-alpine"
    assert mapped.upstream_of("hub.internal:5000") == "docker.io"
