"""provider_helper/mirror/plan.py: one job per selected artifact, saying where it is read and where it lands (the
target naming of docs/CONTRACTS.md). Each branch: an image takes --platform (or its own platforms), an OCI chart
has no platform whatever the selection, a classic chart and an NGC resource are read elsewhere, an unpinned
artifact is skipped with the line saying how to pin it; --source-map decides where a source is read."""

from __future__ import annotations

import dataclasses

from provider_helper.artifacts import Artifact, ResourceRef
from provider_helper.mirror.plan import PlanOptions, make_plan
from provider_helper.oci.reference import Platform, Target, parse_platform, parse_reference
from provider_helper.sourcemap import SourceMap

TARGET = Target("registry.example:5000", "mycluster")
ARM = (parse_platform("linux/arm64"),)


def _image(source: str, platforms: tuple[Platform, ...] | None = None) -> Artifact:
    ref = parse_reference(source)
    name = ref.repository.rsplit("/", 1)[-1]
    return Artifact(type="image", group="g", name=name, where="m.yaml:1", image=ref, platforms=platforms)


def test_an_image_lands_at_registry_prefix_name_tag_and_takes_the_selected_platforms() -> None:
    [job] = make_plan(
        [_image("nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1")], PlanOptions(TARGET, ARM)
    )
    assert str(job.target) == "registry.example:5000/mycluster/nvcf-openbao:2.5.1"
    assert str(job.source) == "nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1"
    assert job.platforms == ARM and job.skip_reason is None
    assert job.result().target == "registry.example:5000/mycluster/nvcf-openbao:2.5.1"


def test_an_image_without_prefix_lands_at_registry_name_tag() -> None:
    [job] = make_plan([_image("nvcr.io/org/team/app:1.0")], PlanOptions(Target("registry.example"), None))
    assert str(job.target) == "registry.example/app:1.0"


def test_an_artifacts_own_platforms_win_over_the_selection_and_all_platforms_is_none() -> None:
    own = (parse_platform("linux/amd64"), parse_platform("linux/arm64"))
    [mine, everything] = make_plan(
        [_image("nvcr.io/org/a:1", platforms=own), _image("nvcr.io/org/b:1")], PlanOptions(TARGET, None)
    )
    assert mine.platforms == own
    assert everything.platforms is None


def test_an_oci_chart_has_no_platform_under_an_image_platform_selection() -> None:
    ref = parse_reference("nvcr.io/org/team/helm-nvca-operator:1.4.7")
    chart = Artifact(type="chart", group="g", name="helm-nvca-operator", where="m.yaml:3", image=ref)
    [job] = make_plan([chart], PlanOptions(TARGET, ARM))
    assert job.platforms is None, "a chart was given the images' platform selection"
    assert str(job.target) == "registry.example:5000/mycluster/helm-nvca-operator:1.4.7"


def test_a_classic_chart_is_read_from_its_repository_and_its_version_plus_becomes_underscore() -> None:
    chart = Artifact(
        type="chart",
        group="g",
        name="gpu-operator",
        where="m.yaml:5",
        repo="https://helm.ngc.nvidia.com/nvidia",
        chart="gpu-operator",
        version="25.3.1+build.2",
    )
    [job] = make_plan([chart], PlanOptions(TARGET, ARM))
    assert job.source is None and job.platforms is None
    assert str(job.target) == "registry.example:5000/mycluster/gpu-operator:25.3.1_build.2"


def test_an_ngc_resource_lands_at_registry_prefix_name_version_and_has_no_registry_source() -> None:
    resource = ResourceRef("0833294136851237", "nvcf-ncp-staging", "nvcf-base", "0.1.4")
    artifact = Artifact(type="resource", group="g", name="nvcf-base", where="m.yaml:7", resource=resource)
    [job] = make_plan([artifact], PlanOptions(TARGET, ARM))
    assert job.source is None and job.platforms is None
    assert str(job.target) == "registry.example:5000/mycluster/nvcf-base:0.1.4"


def test_an_unpinned_artifact_is_skipped_with_the_whole_line_saying_how_to_pin_it() -> None:
    chart = Artifact(
        type="chart", group="g", name="gpu-operator", where="m.yaml:5", repo="https://h.example", chart="gpu-operator"
    )
    [job] = make_plan([dataclasses.replace(chart, needs_version=True)], PlanOptions(TARGET, ARM))
    assert job.skip_reason == (
        "gpu-operator has no version: pin it in the manifest or with --set-version gpu-operator=VERSION"
    )
    assert str(job.target) == "registry.example:5000/mycluster/gpu-operator:unpinned"


def test_a_source_map_decides_where_a_source_is_read_and_the_result_keeps_the_upstream() -> None:
    sources = SourceMap.parse(["docker.io=harbor.example.com/dockerhub"])
    [hub, ngc] = make_plan(
        [_image("nats:2.10.21-alpine"), _image("nvcr.io/org/app:1")], PlanOptions(TARGET, None, sources)
    )
    assert str(hub.source) == "harbor.example.com/dockerhub/library/nats:2.10.21-alpine"
    assert hub.result().source == "docker.io/library/nats:2.10.21-alpine"
    assert str(ngc.source) == "nvcr.io/org/app:1", "an upstream with no map is read where it is"


def test_without_a_source_map_a_docker_hub_image_is_read_at_its_api_host() -> None:
    [job] = make_plan([_image("nats:2.10.21-alpine")], PlanOptions(TARGET, None))
    assert job.source is not None and job.source.repository == "library/nats"
