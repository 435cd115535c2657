"""Unit tests of provider_helper/manifest_entries.py: the checks of one entry a schema cannot say, and where in
the file each problem is. README The manifest: "Each problem is one line naming the file, the line, the path
and what is wrong"; every line here is asserted whole, the place it names included."""

from __future__ import annotations

from textwrap import dedent

import pytest

from provider_helper import manifest as manifest_mod
from provider_helper.errors import ManifestError
from provider_helper.manifest_entries import Locator, duplicates, entry_artifact
from provider_helper.yamlload import load_with_nodes

HEAD = "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: a\n    default: true\n  - name: b\nartifacts:\n"


def _problems(artifacts: str) -> list[str]:
    """Every problem of a manifest whose artifacts are ``artifacts`` (YAML, indented by two)."""
    with pytest.raises(ManifestError) as caught:
        manifest_mod.parse(HEAD + dedent(artifacts), "f.yaml")
    return list(caught.value.problems)


def test_the_locator_names_the_file_the_one_based_line_and_the_path_with_indexes_in_brackets() -> None:
    text = HEAD + "  - type: image\n    source: nvcr.io/x/y:1\n    group: a\n    platforms: [linux/amd64]\n"
    root, _ = load_with_nodes(text)
    locate = Locator("f.yaml", root)
    assert locate(["artifacts", 0, "source"]) == "f.yaml:8: artifacts[0].source"
    assert locate(["artifacts", 0, "platforms", 0]) == "f.yaml:10: artifacts[0].platforms[0]"
    assert locate(["groups", 1, "name"]) == "f.yaml:5: groups[1].name"
    assert locate([]) == "f.yaml:1"
    assert locate.line(["apiVersion"]) == 1


def test_the_locator_falls_back_to_the_deepest_node_it_finds_and_to_the_file_without_a_document() -> None:
    root, _ = load_with_nodes(HEAD + "  - type: image\n    source: nvcr.io/x/y:1\n    group: a\n")
    assert Locator("f.yaml", root)(["artifacts", 0, "name"]) == "f.yaml:7: artifacts[0].name"  # no 'name' field
    assert Locator("f.yaml", None)(["artifacts", 2]) == "f.yaml: artifacts[2]"


def test_a_duplicate_names_both_places_whole() -> None:
    assert duplicates(["a", "b", "a"], lambda i: f"f.yaml:{i + 1}: groups[{i}]", "group") == [
        "f.yaml:3: groups[2]: duplicate group 'a', also at f.yaml:1: groups[0]"
    ]
    assert duplicates([("y", "1"), ("y", "1")], lambda i: f"at{i}", "target {0[0]}:{0[1]}") == [
        "at1: duplicate target y:1, also at at0"
    ]
    assert duplicates(["a", "b"], str, "group") == []


def test_two_entries_on_one_target_are_one_line_naming_the_second_and_where_the_first_is() -> None:
    problems = _problems(
        """\
          - type: image
            source: nvcr.io/x/y:1
            group: a
          - type: image
            source: nvcr.io/z/y:1
            group: a
        """
    )
    assert problems == ["f.yaml:10: artifacts[1]: duplicate target y:1, also at f.yaml:7: artifacts[0]"]


def test_an_unknown_group_names_the_group_field_and_the_groups_there_are() -> None:
    problems = _problems("  - type: image\n    source: nvcr.io/x/y:1\n    group: nope\n")
    assert problems == ["f.yaml:9: artifacts[0].group: unknown group 'nope' (groups: a, b)"]


def test_a_resource_needs_a_version_unless_it_is_marked_needs_version() -> None:
    problems = _problems("  - type: resource\n    source: org/team/name\n    group: a\n")
    assert problems == ["f.yaml:8: artifacts[0].source: resource 'org/team/name' must be ORG/[TEAM/]NAME:VERSION"]
    loaded = manifest_mod.parse(
        HEAD + "  - type: resource\n    source: org/name\n    group: a\n    needs_version: true\n", "f"
    )
    (resource,) = loaded.artifacts
    assert (resource.name, resource.tag, resource.needs_version, resource.source_text) == (
        "name",
        None,
        True,
        "org/name",
    )


def test_charts_take_no_platforms_and_a_platform_typo_names_its_place_and_the_nearest_value() -> None:
    problems = _problems(
        """\
          - type: chart
            source: nvcr.io/x/c:1
            group: a
            platforms: [linux/amd64]
          - type: image
            source: nvcr.io/x/i:1
            group: a
            platforms: [linux/amd65]
        """
    )
    assert problems == [
        "f.yaml:10: artifacts[0].platforms: platforms apply to images only, not charts",
        "f.yaml:14: artifacts[1].platforms[0]: invalid platform 'linux/amd65': unknown architecture 'amd65' "
        "(did you mean linux/amd64?)",
    ]


def test_the_target_name_is_the_last_path_part_unless_the_entry_names_one() -> None:
    loaded = manifest_mod.parse(
        HEAD
        + dedent(
            """\
              - type: image
                source: nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0
                group: a
              - type: image
                source: docker.io/alpine/k8s:1.37.0
                group: a
                name: alpine-k8s
              - type: chart
                repo: https://helm.ngc.nvidia.com/nvidia/
                chart: gpu-operator
                version: v25.3.1
                group: a
              - type: resource
                source: 0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4
                group: b
            """
        ),
        "f.yaml",
    )
    assert [a.key for a in loaded.artifacts] == [
        "image:nvcf-openbao:2.5.1-nv-1.1.0",
        "image:alpine-k8s:1.37.0",
        "chart:gpu-operator:v25.3.1",
        "resource:nvcf-base:0.1.4",
    ]
    assert loaded.artifacts[2].repo == "https://helm.ngc.nvidia.com/nvidia"  # one spelling of the repository
    assert [a.where for a in loaded.artifacts] == [
        "f.yaml:7: artifacts[0]",
        "f.yaml:10: artifacts[1]",
        "f.yaml:14: artifacts[2]",
        "f.yaml:19: artifacts[3]",
    ]


def test_names_that_cannot_name_a_repository_and_versions_that_are_not_one_are_refused_at_their_field() -> None:
    problems = _problems(
        """\
          - type: chart
            repo: https://charts.example.com/r
            chart: Bad_Name
            version: "1.0"
            group: a
          - type: chart
            repo: https://charts.example.com/r
            chart: ok
            version: "1.0 beta"
            group: a
          - type: resource
            source: org/team/nvcf-base:0..1
            group: a
        """
    )
    assert problems == [
        "f.yaml:9: artifacts[0].chart: chart name 'Bad_Name' cannot name a repository (set 'name')",
        "f.yaml:15: artifacts[1].version: chart version '1.0 beta' is not a valid version",
        "f.yaml:18: artifacts[2].source: resource version '0..1' is not a valid version",
    ]


def test_entry_artifact_reads_one_entry_with_its_place() -> None:
    root, data = load_with_nodes(
        HEAD + "  - type: image\n    source: nvcr.io/x/y\n    group: a\n    needs_version: true\n"
    )
    artifact = entry_artifact(data["artifacts"][0], 0, {"a", "b"}, Locator("f.yaml", root))
    assert (artifact.where, artifact.name, artifact.tag, artifact.needs_version) == (
        "f.yaml:7: artifacts[0]",
        "y",
        None,
        True,
    )
