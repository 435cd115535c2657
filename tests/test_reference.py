"""Unit tests of provider_helper/oci/reference.py: references, targets, platforms, loopback hosts, tags."""

from __future__ import annotations

import pytest

from provider_helper.errors import InputError
from provider_helper.oci.reference import (
    Platform,
    Reference,
    api_host,
    chart_tag,
    is_loopback,
    parse_platform,
    parse_reference,
    parse_target,
)


def test_reference_parsing_keeps_registry_path_tag_and_digest() -> None:
    ref = parse_reference("nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0")
    assert (ref.registry, ref.repository, ref.tag, ref.name) == (
        "nvcr.io",
        "0833294136851237/nvcf-ncp-staging/nvcf-openbao",
        "2.5.1-nv-1.1.0",
        "nvcf-openbao",
    )
    pinned = parse_reference("127.0.0.1:5000/a/b:1@sha256:" + "a" * 64)
    assert pinned.registry == "127.0.0.1:5000" and pinned.reference == "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "text", ["Nvcf-openbao:1", "nvcr.io/UPPER/x:1", "nvcr.io/a/b:bad tag", "nvcr.io/a/b@sha256:xyz", "nvcr.io/a/b"]
)
def test_bad_references_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_reference(text)


def test_target_naming_puts_prefix_between_registry_and_name() -> None:
    target = parse_target("123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster")
    assert (
        str(target.reference("nvcf-openbao", "2.5.1"))
        == "123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster/nvcf-openbao:2.5.1"
    )
    with pytest.raises(InputError):
        parse_target("host/Bad Prefix")


def test_platform_matching_treats_arm64_v8_as_arm64() -> None:
    assert parse_platform("linux/arm64").matches("linux", "arm64", "v8")
    assert parse_platform("linux/arm64/v8").matches("linux", "arm64", None)
    assert not parse_platform("linux/arm/v7").matches("linux", "arm", "v6")
    assert not Platform("linux", "amd64").matches("linux", "arm64", None)
    with pytest.raises(InputError):
        parse_platform("amd64")


def test_loopback_hosts_are_recognised_with_and_without_ports() -> None:
    assert (
        is_loopback("127.0.0.1:5000")
        and is_loopback("localhost")
        and is_loopback("[::1]:5000")
        and is_loopback("127.8.9.1")
    )
    assert not is_loopback("nvcr.io") and not is_loopback("10.0.0.1:5000")


@pytest.mark.parametrize("text", ["1.0\n", "1.0\r", "\u0661.\u0660", "v1.0\u00a0", "a" * 129])
def test_tags_and_digests_are_ascii_whole_strings(text: str) -> None:
    from provider_helper.mirror.versions import version_key
    from provider_helper.oci.reference import is_tag

    assert not is_tag(text) and version_key(text) is None
    with pytest.raises(InputError):
        parse_reference(f"nvcr.io/org/app:{text}")
    with pytest.raises(InputError):
        parse_reference("nvcr.io/org/app@sha256:" + "a" * 64 + "\n")
    assert is_tag("v1.0_rc-1.2") and version_key("v1.2.3-rc.1") is not None


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


@pytest.mark.parametrize(
    ("typo", "what", "nearest"),
    [
        ("linus/arm64", "operating system 'linus'", "linux/arm64"),
        ("linux/amd65", "architecture 'amd65'", "linux/amd64"),
    ],
)
def test_a_platform_with_an_os_or_architecture_go_does_not_know_is_refused_naming_the_nearest(
    typo: str, what: str, nearest: str
) -> None:
    """README: "A platform must name an OS and architecture the OCI image spec knows (Go's GOOS/GOARCH): a typo such
    as linux/amd65 is exit 2 before anything runs, with the nearest valid value ("did you mean linux/amd64?")"."""
    with pytest.raises(InputError) as refused:
        parse_platform(typo)
    assert str(refused.value) == f"invalid platform {typo!r}: unknown {what} (did you mean {nearest}?)"
    assert parse_platform(nearest) == Platform(*nearest.split("/"))


def test_references_are_read_as_docker_reads_them_docker_hub_and_its_official_images() -> None:
    """README Sources: "`nats:2.10.21-alpine`, `docker.io/library/nats:2.10.21-alpine` and
    `index.docker.io/library/nats:2.10.21-alpine` are one image, and `alpine/k8s:1.37.0` is
    `docker.io/alpine/k8s:1.37.0`. Docker Hub's registry API is asked at `registry-1.docker.io`"."""
    same = {
        str(parse_reference(text))
        for text in (
            "nats:2.10.21-alpine",
            "docker.io/library/nats:2.10.21-alpine",
            "index.docker.io/library/nats:2.10.21-alpine",
            "Docker.IO/nats:2.10.21-alpine",
        )
    }
    assert same == {"docker.io/library/nats:2.10.21-alpine"}
    assert str(parse_reference("alpine/k8s:1.37.0")) == "docker.io/alpine/k8s:1.37.0"
    assert api_host("docker.io") == api_host("index.docker.io") == "registry-1.docker.io"
    assert api_host("ghcr.io") == "ghcr.io" and api_host("nvcr.io") == "nvcr.io"
    for host in ("quay.io/org/app:1", "registry.example:5000/app:1", "localhost/app:1", "localhost:5000/app:1"):
        assert str(parse_reference(host)) == host, "a first part with a '.' or ':' or localhost is a host"


def test_a_chart_version_with_plus_is_tagged_with_underscore_as_helm_does() -> None:
    assert chart_tag("25.3.1+build.2") == "25.3.1_build.2"
    assert chart_tag("1.4.7") == "1.4.7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
        ("linux/arm/v7", Platform("linux", "arm", "v7")),
        ("windows/amd64", Platform("windows", "amd64")),
    ],
)
def test_platforms_are_os_arch_and_an_optional_variant(text: str, expected: Platform) -> None:
    assert parse_platform(text) == expected and str(expected) == text


def test_a_variant_must_match_when_given_and_any_variant_matches_when_not() -> None:
    assert parse_platform("linux/arm/v7").matches("linux", "arm", "v7")
    assert not parse_platform("linux/arm/v7").matches("linux", "arm", "v6")
    assert parse_platform("linux/arm").matches("linux", "arm", "v6")
    assert not parse_platform("linux/amd64").matches("linux", "arm64", None)
    assert not parse_platform("linux/amd64").matches("windows", "amd64", None)
