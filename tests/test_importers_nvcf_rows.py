"""Unit tests of provider_helper/importers_nvcf_rows.py: what one row of NVIDIA's artifact-manifest page becomes.
Each row of README "Importing NVIDIA's page" (its distribution table) and each group rule of "Bundled releases"
has a row here, asserted as the whole entry the import writes."""

from __future__ import annotations

from typing import Any

import pytest

from provider_helper.errors import InputError
from provider_helper.importers_nvcf_rows import Table, row

COLUMNS = ["artifact", "version", "stack", "required", "description", "distribution", "source code"]
NO_STACK = ["artifact", "version", "required", "description", "distribution", "source code"]  # v0.6.x


def _row(
    heading: str, artifact: str, version: str, distribution: str, stack: str = "", required: str = "Required"
) -> tuple[dict[str, Any], set[str]]:
    cells = [f"`{artifact}`", version, stack, required, "what it is", f"`{distribution}`", "[src](https://x)"]
    return row(Table(heading, COLUMNS), cells, 0, 5)


def _no_stack_row(heading: str, artifact: str, version: str, distribution: str, required: str = "Required") -> Any:
    cells = [f"`{artifact}`", version, required, "what it is", f"`{distribution}`", ""]
    return row(Table(heading, NO_STACK), cells, 0, 4)[0]


def test_an_nvcr_io_reference_is_an_image_in_its_stacks_required_group() -> None:
    entry, stacks = _row(
        "Control plane services and images", "nvcf-api", "1.27.1", "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "self-managed"
    )
    assert entry == {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "self-managed"}
    assert stacks == {"self-managed"}


@pytest.mark.parametrize(
    ("distribution", "source"),
    [
        ("docker.io/library/nats:2.10.21-alpine", "docker.io/library/nats:2.10.21-alpine"),
        ("nats:2.10.21-alpine", "docker.io/library/nats:2.10.21-alpine"),
        ("ghcr.io/nvidia/dynamo:0.4.0", "ghcr.io/nvidia/dynamo:0.4.0"),
        ("quay.io/prometheus/node-exporter:v1.9.1", "quay.io/prometheus/node-exporter:v1.9.1"),
    ],
)
def test_references_on_other_registries_are_images_written_as_full_references(distribution: str, source: str) -> None:
    tag = source.rsplit(":", 1)[1]
    entry, _ = _row("Observability services and images", "x", tag, distribution, "observability")
    assert entry == {"type": "image", "source": source, "group": "observability"}


def test_a_reference_under_a_helm_charts_heading_is_an_oci_chart() -> None:
    entry, _ = _no_stack_row("Control plane Helm charts", "helm-x", "1.0", "nvcr.io/nvidia/nvcf/helm-x:1.0"), None
    assert entry == {"type": "chart", "source": "nvcr.io/nvidia/nvcf/helm-x:1.0", "group": "self-managed"}


def test_an_oci_url_is_an_oci_chart_without_its_scheme() -> None:
    entry, _ = _row(
        "Compute plane",
        "kai-scheduler",
        "v0.17.1",
        "oci://ghcr.io/nvidia/kai-scheduler/kai-scheduler:v0.17.1",
        "compute-plane",
    )
    assert entry == {
        "type": "chart",
        "source": "ghcr.io/nvidia/kai-scheduler/kai-scheduler:v0.17.1",
        "group": "compute-plane",
    }


def test_a_helm_repository_url_with_chart_and_version_is_a_classic_chart() -> None:
    entry, _ = _row(
        "Control plane Helm charts",
        "helm-nvcf-api",
        "1.27.1",
        "https://helm.ngc.nvidia.com/nvidia/nvcf/helm-nvcf-api:1.27.1",
        "self-managed",
    )
    assert entry == {
        "type": "chart",
        "repo": "https://helm.ngc.nvidia.com/nvidia/nvcf",
        "chart": "helm-nvcf-api",
        "version": "1.27.1",
        "group": "self-managed",
    }


def test_a_repository_url_alone_is_the_chart_the_artifact_column_names_in_that_repository() -> None:
    entry, _ = _row(
        "Independent",
        "ebs-csi-driver",
        "supported",
        "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
        "Independent",
        "Optional",
    )
    assert entry == {
        "type": "chart",
        "repo": "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
        "chart": "aws-ebs-csi-driver",
        "group": "independent-optional",
        "needs_version": True,
        "note": "published without a version; pin it with --set-version aws-ebs-csi-driver=VERSION",
    }
    other, _ = _row("Independent", "csi", "2.0", "https://charts.example.com/csi", "Independent")
    assert other == {
        "type": "chart",
        "repo": "https://charts.example.com/csi",
        "chart": "csi",
        "version": "2.0",
        "group": "independent",
    }


def test_an_ngc_catalog_page_is_its_nvcr_io_image_under_the_artifact_name_and_supported_needs_a_version() -> None:
    entry, stacks = _row(
        "Independent",
        "k8s-device-plugin",
        "supported",
        "https://catalog.ngc.nvidia.com/orgs/nvidia/teams/cloud-native/containers/gpu-operator-validator",
        "Independent",
    )
    assert entry == {
        "type": "image",
        "source": "nvcr.io/nvidia/cloud-native/gpu-operator-validator",
        "group": "independent",
        "name": "k8s-device-plugin",
        "needs_version": True,
        "note": "published without a version; pin it with --set-version k8s-device-plugin=VERSION",
    }
    assert stacks == set()  # Independent is no stack of the description's


@pytest.mark.parametrize("version", ["supported", "Supported", "latest", "-", ""])
def test_a_version_that_pins_nothing_marks_the_entry_needs_version(version: str) -> None:
    entry, _ = _row("Independent", "gpu-operator", version, "https://helm.ngc.nvidia.com/nvidia", "Independent")
    assert entry["needs_version"] is True
    assert "version" not in entry


def test_a_distribution_tag_other_than_the_version_column_is_mirrored_and_the_column_kept_in_the_note() -> None:
    entry, stacks = _row(
        "Cross-stack",
        "nats-server-config-reloader",
        "0.23.0",
        "nvcr.io/nvidia/nvcf/nats-server-config-reloader:0.23.0-ea",
        "self-managed / compute-plane",
    )
    assert entry == {
        "type": "image",
        "source": "nvcr.io/nvidia/nvcf/nats-server-config-reloader:0.23.0-ea",
        "group": "cross-stack",
        "note": "the page's Version column says 0.23.0; its distribution's tag 0.23.0-ea is what is mirrored",
    }
    assert stacks == {"self-managed", "compute-plane"}


def test_a_reference_without_a_tag_takes_the_version_column() -> None:
    entry, _ = _row("Control plane", "nvcf-api", "1.27.1", "nvcr.io/nvidia/nvcf/nvcf-api", "self-managed")
    assert entry == {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "self-managed"}


def test_a_row_of_the_tools_table_is_an_ngc_resource_in_deployment_resources() -> None:
    entry, stacks = _row("Tools and deployment resources", "nvcf-cli", "1.16.2", "nvcr.io/nvidia/nvcf/nvcf-cli:1.16.2")
    assert (entry, stacks) == (
        {"type": "resource", "source": "nvidia/nvcf/nvcf-cli:1.16.2", "group": "deployment-resources"},
        set(),
    )
    untagged, _ = _row("Tools and deployment resources", "nvcf-cli", "1.16.2", "nvcr.io/nvidia/nvcf/nvcf-cli")
    assert untagged["source"] == "nvidia/nvcf/nvcf-cli:1.16.2"


def test_a_resource_row_that_cannot_be_read_says_what_it_expected() -> None:
    with pytest.raises(InputError) as caught:
        _row("Tools and deployment resources", "nvcf-cli", "supported", "nvcr.io/nvidia/nvcf/nvcf-cli")
    assert str(caught.value) == "resource 'nvcr.io/nvidia/nvcf/nvcf-cli': expected nvcr.io/ORG/[TEAM/]NAME:VERSION"


def test_docker_hubs_alpine_k8s_lands_as_alpine_k8s_for_the_account_bootstrap_values() -> None:
    entry, _ = _row("Control plane", "alpine-k8s", "1.37.0", "docker.io/alpine/k8s:1.37.0", "self-managed")
    assert entry == {
        "type": "image",
        "source": "docker.io/alpine/k8s:1.37.0",
        "group": "self-managed",
        "name": "alpine-k8s",
    }


@pytest.mark.parametrize(
    ("stack", "required", "group"),
    [
        ("self-managed", "Required", "self-managed"),
        ("self-managed", "Optional", "self-managed-optional"),
        ("compute-plane", "Optional", "compute-plane-optional"),
        ("observability", "Required", "observability"),
        ("Independent", "Required", "independent"),
        ("Independent", "Optional", "independent-optional"),
        ("self-managed / compute-plane", "Required", "cross-stack"),
        ("`self-managed` / `compute-plane`", "Optional", "cross-stack-optional"),
    ],
)
def test_the_stack_and_required_columns_decide_the_group(stack: str, required: str, group: str) -> None:
    entry, _ = _row("Services", "x", "1.0", "nvcr.io/nvidia/nvcf/x:1.0", stack, required)
    assert entry["group"] == group


@pytest.mark.parametrize(
    ("heading", "group"),
    [
        ("Control plane services and images", "self-managed"),
        ("Compute plane Helm charts", "compute-plane"),
        ("Observability services", "observability"),
        ("Cross-stack images", "cross-stack"),
    ],
)
def test_without_a_stack_column_the_heading_names_the_stack(heading: str, group: str) -> None:
    assert _no_stack_row(heading, "x", "1.0", "nvcr.io/nvidia/nvcf/x:1.0")["group"] == group
    assert _no_stack_row(heading, "x", "1.0", "nvcr.io/nvidia/nvcf/x:1.0", "Optional")["group"] == f"{group}-optional"


def test_the_v05_pages_type_column_says_what_each_row_is_and_the_heading_names_the_group() -> None:
    table = Table("Infrastructure Components", ["type", "component name", "full path"])
    staging = "nvcr.io/0833294136851237/nvcf-ncp-staging"
    rows = [
        ["Image", "nvcf-openbao", f"`{staging}/nvcf-openbao:2.5.1-nv-1.1.0`"],
        ["Chart (OCI)", "helm-nvca-operator", f"`{staging}/helm-nvca-operator:1.4.7`"],
        ["Chart (HTTP)", "gpu-operator", "`https://helm.ngc.nvidia.com/nvidia/gpu-operator:25.3.1`"],
        ["Resource", "nvcf-base", f"`{staging}/nvcf-base:0.1.4`"],
    ]
    assert [row(table, cells, 1, 2)[0] for cells in rows] == [
        {"type": "image", "source": f"{staging}/nvcf-openbao:2.5.1-nv-1.1.0", "group": "infrastructure"},
        {"type": "chart", "source": f"{staging}/helm-nvca-operator:1.4.7", "group": "infrastructure"},
        {
            "type": "chart",
            "repo": "https://helm.ngc.nvidia.com/nvidia",
            "chart": "gpu-operator",
            "version": "25.3.1",
            "group": "infrastructure",
        },
        {
            "type": "resource",
            "source": "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4",
            "group": "deployment-resources",
        },
    ]
