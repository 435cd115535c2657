"""Unit tests of provider_helper/session.py, a run's settings and the clients it builds from them."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import write_manifest
from hostile import Reply, ScriptedServer
from readme_text import said

from provider_helper import wording
from provider_helper.errors import InputError, SettingError
from provider_helper.manifest import load
from provider_helper.oci.reference import parse_platform
from provider_helper.session import RunConfig, pins_of, split_pin


def test_the_mirror_of_helm_ngc_nvidia_com_is_offered_ngc_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Credentials: "`NGC_API_KEY` (user `$oauthtoken`) for `nvcr.io` ..., for the NGC API and for the
    mirror of `helm.ngc.nvidia.com`". A private Helm repository standing in for helm.ngc.nvidia.com (through
    `--source-map`) that asks for credentials: the run answers with `$oauthtoken` and the key, and reads the
    index. The repository is a scripted server (plain HTTP, as a mapped loopback host is read) that answers 401
    to any other authorization."""
    key = "nvapi-" + os.urandom(8).hex()
    monkeypatch.setenv("NGC_API_KEY", key)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    expected = "Basic " + base64.b64encode(f"$oauthtoken:{key}".encode()).decode()
    index = yaml.safe_dump({"apiVersion": "v1", "entries": {"app": [{"version": "1.0.0", "urls": ["a.tgz"]}]}})

    def route(server: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != expected:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="charts"'})
        return Reply(200, {"Content-Type": "application/x-yaml"}, index.encode())

    server = ScriptedServer("127.0.0.1", route)
    servers.append(server)
    config = RunConfig(
        target="registry.example/p",
        target_type="generic",
        source_map=(f"helm.ngc.nvidia.com={server.host}",),
    )
    try:
        assert config.helm.versions("https://helm.ngc.nvidia.com/nvidia/nvcf", "app") == ["1.0.0"]
    finally:
        config.helm.close()
    assert server.authorizations() == [expected], "asked without credentials first, then with the key"
    assert [seen.path for seen in server.seen] == ["/nvidia/nvcf/index.yaml"] * 2


TARGET = "registry.example/prefix"


@pytest.fixture
def door() -> Iterator[None]:
    yield
    wording.use(wording.CLI)


def _two_groups(tmp_path: Path) -> Path:
    return write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/org/team/a:1.0", "group": "core"},
            {"type": "image", "source": "nvcr.io/org/team/b:1.0", "group": "extra"},
        ],
        groups=[{"name": "core", "default": True}, {"name": "extra", "default": False}],
    )


def test_the_defaults_are_the_readmes() -> None:
    """README COMMON flags: --platform "default linux/amd64", --target-type "default auto", --retries "default 6";
    signatures are copied unless --no-signatures."""
    config = RunConfig(target=TARGET)
    assert config.selected_platforms() == (
        parse_platform(said(r"`--platform OS/ARCH\[/VARIANT\]` \(repeatable, default `([^`]+)`")[1]),
    )
    assert config.target_type == said(r"`--target-type auto\|ecr\|generic` \(default `(\w+)`\)")[1]
    assert config.retries == int(said(r"`--retries N` \(attempts per request or blob, default (\d+)\)")[1])
    assert config.signatures is True
    assert RunConfig(target=TARGET, all_platforms=True).selected_platforms() is None


def names(config: RunConfig) -> list[str]:
    return [j.artifact.name for j in config.jobs(resolve_versions=False)]


def test_without_a_group_the_manifests_default_groups_are_selected_and_a_group_leaves_them_out(tmp_path: Path) -> None:
    """CONTRACTS: "Without --group, the manifest's default groups are selected"; --group X selects X alone."""
    manifest = str(_two_groups(tmp_path))
    assert names(RunConfig(target=TARGET, manifest=manifest)) == ["a"]
    assert names(RunConfig(target=TARGET, manifest=manifest, groups=("extra",))) == ["b"]
    assert names(RunConfig(target=TARGET, manifest=manifest, all_groups=True)) == ["a", "b"]
    assert names(RunConfig(target=TARGET, manifest=manifest, all_groups=True, excludes=("a",))) == ["b"]


def test_the_bundled_default_selection_is_the_default_groups_of_v0_5() -> None:
    """README: --manifest "default: the bundled NVCF v0.5 list"; without --group its default groups."""
    jobs = RunConfig(target=TARGET).jobs(resolve_versions=False)
    defaults = set(load(release="v0.5").default_groups)
    assert jobs and {j.artifact.group for j in jobs} == defaults
    assert all(j.target.registry == "registry.example" and j.target.repository.startswith("prefix/") for j in jobs)


@pytest.mark.parametrize(
    ("door_name", "platforms", "groups"),
    [
        (
            wording.CLI,
            "--platform and --all-platforms exclude each other",
            "--group and --all-groups exclude each other",
        ),
        (wording.TERRAFORM, 'platforms and platforms = ["all"] exclude each other', None),
    ],
)
def test_settings_that_exclude_each_other_are_refused_in_the_doors_words(
    tmp_path: Path, door: None, door_name: str, platforms: str, groups: str | None
) -> None:
    """README: "Flags that exclude each other (--group with --all-groups, --platform with --all-platforms ...)
    stop the command with one line naming both, exit 2"."""
    wording.use(door_name)
    with pytest.raises(InputError) as both:
        RunConfig(target=TARGET, platforms=("linux/arm64",), all_platforms=True).selected_platforms()
    assert str(both.value) == platforms
    if groups is not None:
        with pytest.raises(InputError) as both:
            RunConfig(target=TARGET, manifest=str(_two_groups(tmp_path)), groups=("core",), all_groups=True).jobs(
                resolve_versions=False
            )
        assert str(both.value) == groups


def test_one_entry_pinned_twice_is_refused_naming_both_pins() -> None:
    """README: "One entry pinned twice (--set-version foo=1.1 --set-version foo=1.2, or foo= beside a foo:TAG=
    pin) is one line naming both pins, exit 2"."""
    with pytest.raises(SettingError) as twice:
        pins_of(["foo=1.1", "foo=1.2"])
    assert str(twice.value) == "set_versions foo=1.2: foo is pinned twice (foo=1.1 and foo=1.2)"
    with pytest.raises(SettingError) as twice:
        pins_of(["foo:2.0=latest", "foo=1.2"])
    assert twice.value.problem == "foo is pinned twice (foo:2.0=latest and foo=1.2)"
    with pytest.raises(SettingError) as twice:
        pins_of(["foo=1.2", "foo:2.0=latest"])
    assert twice.value.problem == "foo is pinned twice (foo=1.2 and foo:2.0=latest)"
    assert pins_of(["foo:1=1.1", "foo:2=2.1", "bar=latest"]) == {"foo:1": "1.1", "foo:2": "2.1", "bar": "latest"}


@pytest.mark.parametrize("text", ["foo", "foo=", "=1.0", "="])
def test_a_pin_needs_a_name_and_a_version(text: str) -> None:
    """--help: ``--set-version NAME[:TAG]=VERSION|latest``: an empty name or version is no pin."""
    with pytest.raises(SettingError) as bad:
        split_pin(text)
    assert (bad.value.setting, bad.value.item, bad.value.problem) == ("set_versions", text, "expected NAME=VERSION")
    assert split_pin("nvcf-openbao:2.2.2-nv-1=latest") == ("nvcf-openbao:2.2.2-nv-1", "latest")
    assert split_pin("a=b=c") == ("a", "b=c")


def test_the_connection_flags_reach_every_registry_of_the_run(tmp_path: Path) -> None:
    """README COMMON: --insecure-registry HOST, --ca-file PEM, --retries N (attempts per request or blob): the
    sources' registries and the target's alike."""
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    config = RunConfig(
        target="registry.example/p",
        target_type="generic",
        insecure_registries=("mirror.example:5000",),
        ca_file=str(ca),
        retries=2,
    )
    for pool in (config.source_registries(), config.registries()):
        try:
            assert (pool.insecure, pool.ca_file, pool.retry.attempts) == (
                frozenset({"mirror.example:5000"}),
                str(ca),
                2,
            )
        finally:
            pool.close()
    unset = RunConfig(target="registry.example/p").source_registries()
    try:
        assert (unset.insecure, unset.ca_file, unset.retry.attempts) == (frozenset(), None, 6)
    finally:
        unset.close()
