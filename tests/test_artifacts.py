"""Unit tests of provider_helper/artifacts.py: what a manifest entry becomes. The key, the source text and
the target tag are contracts (docs/CONTRACTS.md, The result document and Target naming), so each kind of
artifact is held to the documented spelling, whole."""

from __future__ import annotations

import pytest

from provider_helper.artifacts import Artifact, ResourceRef
from provider_helper.errors import SettingError
from provider_helper.oci.reference import parse_platform, parse_reference

DIGEST = "sha256:" + "ab" * 32


def _image(source: str = "nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0") -> Artifact:
    ref = parse_reference(source, require_tag=False)
    return Artifact(type="image", group="infrastructure", name=ref.name, where="m.yaml:3", image=ref)


def _classic(version: str | None = "25.3.1", repo: str = "https://helm.ngc.nvidia.com/nvidia") -> Artifact:
    return Artifact(
        type="chart",
        group="supporting",
        name="gpu-operator",
        where="m.yaml:9",
        repo=repo,
        chart="gpu-operator",
        version=version,
        needs_version=version is None,
    )


def _resource(team: str | None = "nvcf-ncp-staging", version: str | None = "0.1.4") -> Artifact:
    ref = ResourceRef("0833294136851237", team, "nvcf-base", version)
    return Artifact(type="resource", group="deployment-resources", name="nvcf-base", where="m.yaml:12", resource=ref)


def test_the_key_is_type_target_name_and_tag_for_each_kind() -> None:
    assert _image().key == "image:nvcf-openbao:2.5.1-nv-1.1.0"
    assert _classic().key == "chart:gpu-operator:25.3.1"
    assert _resource().key == "resource:nvcf-base:0.1.4"
    renamed = Artifact(type="image", group="g", name="alpine-k8s", where="m:1", image=parse_reference("alpine/k8s:1.3"))
    assert renamed.key == "image:alpine-k8s:1.3"  # the target name, not the source's last part


def test_an_artifact_without_a_version_has_no_tag_and_an_unpinned_key() -> None:
    unpinned = _image("nvcr.io/nvidia/cloud-native/k8s-device-plugin")
    assert unpinned.tag is None
    assert unpinned.key == "image:k8s-device-plugin:<unpinned>"
    assert _classic(None).tag is None
    assert _classic(None).key == "chart:gpu-operator:<unpinned>"


def test_the_source_is_written_as_the_contract_says_for_each_kind() -> None:
    assert _image().source_text == "nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0"
    assert _classic().source_text == "https://helm.ngc.nvidia.com/nvidia/gpu-operator:25.3.1"
    assert _classic(None).source_text == "https://helm.ngc.nvidia.com/nvidia/gpu-operator"
    assert _resource().source_text == "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4"
    assert _resource(team=None).source_text == "0833294136851237/nvcf-base:0.1.4"


def test_a_classic_charts_source_never_shows_a_password_of_its_repository_url() -> None:
    chart = _classic(repo="https://user:s3cret@charts.example.com/stable")
    assert chart.source_text == "https://<redacted>@charts.example.com/stable/gpu-operator:25.3.1"
    assert "s3cret" not in str(chart.entry())


def test_the_tag_of_a_chart_writes_plus_as_underscore_and_a_digest_pinned_image_tags_by_its_digest() -> None:
    assert _classic("1.2.3+build.4").tag == "1.2.3_build.4"
    assert _classic("1.2.3+build.4").key == "chart:gpu-operator:1.2.3_build.4"
    pinned = _image(f"nvcr.io/nvidia/nvcf/nvcf-api@{DIGEST}")
    assert pinned.tag == "sha256-" + "ab" * 32


def test_pinned_sets_the_version_of_each_kind_and_clears_needs_version() -> None:
    image = _image("nvcr.io/nvidia/cloud-native/k8s-device-plugin").pinned("v0.17.0")
    assert (image.tag, image.version_text, image.needs_version, image.resolved_from) == (
        "v0.17.0",
        "v0.17.0",
        False,
        None,
    )
    chart = _classic(None).pinned("v25.3.1", resolved_from="latest")
    assert (chart.tag, chart.needs_version, chart.resolved_from) == ("v25.3.1", False, "latest")
    resource = _resource(version=None).pinned("0.1.5", resolved_from="latest")
    assert (resource.source_text, resource.resolved_from) == (
        "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.5",
        "latest",
    )


def test_an_image_pinned_by_latest_records_where_its_version_came_from() -> None:
    resolved = _image().pinned("2.6.0-nv-1.1.0", resolved_from="latest")
    assert resolved.resolved_from == "latest"
    assert resolved.key == "image:nvcf-openbao:2.6.0-nv-1.1.0"


@pytest.mark.parametrize("version", ["not a tag", "1.0/../../x", "..", "-1.0"])
def test_a_pin_that_is_not_a_version_is_one_line_naming_the_setting_the_artifact_and_the_value(version: str) -> None:
    with pytest.raises(SettingError) as caught:
        _image().pinned(version)
    assert str(caught.value) == f"set_versions nvcf-openbao={version}: not a valid version"


def test_a_chart_version_with_plus_is_a_valid_pin_though_a_tag_cannot_hold_plus() -> None:
    assert _classic().pinned("1.0.0+up").tag == "1.0.0_up"
    with pytest.raises(SettingError):
        _image().pinned("1.0.0+up")  # an image tag cannot hold '+'


def test_entry_is_the_manifest_entry_again_for_each_kind() -> None:
    platforms = (parse_platform("linux/arm64"),)
    image = Artifact(
        type="image",
        group="g",
        name="renamed",
        where="m:1",
        image=parse_reference("nvcr.io/a/b:1"),
        platforms=platforms,
    )
    assert image.entry() == {
        "type": "image",
        "group": "g",
        "name": "renamed",
        "source": "nvcr.io/a/b:1",
        "platforms": ["linux/arm64"],
    }
    assert _classic(None).entry() == {
        "type": "chart",
        "group": "supporting",
        "name": "gpu-operator",
        "repo": "https://helm.ngc.nvidia.com/nvidia",
        "chart": "gpu-operator",
        "needs_version": True,
    }
    assert _resource().entry() == {
        "type": "resource",
        "group": "deployment-resources",
        "name": "nvcf-base",
        "source": "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4",
    }


def test_is_classic_chart_only_for_a_chart_from_a_helm_repository() -> None:
    oci_chart = Artifact(
        type="chart",
        group="g",
        name="helm-nvca-operator",
        where="m:1",
        image=parse_reference("nvcr.io/0833294136851237/nvcf-ncp-staging/helm-nvca-operator:1.4.7"),
    )
    assert _classic().is_classic_chart
    assert not oci_chart.is_classic_chart
    assert not _image().is_classic_chart
    assert oci_chart.key == "chart:helm-nvca-operator:1.4.7"
