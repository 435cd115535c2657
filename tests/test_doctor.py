"""provider_helper/doctor.py: ``nvcf-mirror doctor``'s checks, one line each with the fix. Hosts that do not
answer are real closed loopback ports; the line for a registry that answers is held by the doctor tests that run
against Distribution (tests/test_cli_inspect.py, tests/test_ecr.py)."""

from __future__ import annotations

import platform
import socket
from pathlib import Path

import pytest
from helpers import write_manifest

from provider_helper import doctor
from provider_helper.doctor import Check, architecture
from provider_helper.errors import NotFoundError, TlsError, UnreachableError
from provider_helper.oci.reference import parse_platform
from provider_helper.session import RunConfig

REACHABLE_FIX = "make the host reachable from here (its port, a firewall, HTTPS_PROXY)"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, source: str, target: str) -> RunConfig:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/team/a:1.0", "group": "test"}]
    )
    return RunConfig(target=target, manifest=str(manifest), source_registry=source, retries=1)


def test_a_check_is_one_line_status_name_detail_and_the_fix() -> None:
    assert Check("platform", "ok", "mirroring linux/amd64").line() == "ok      platform: mirroring linux/amd64"
    assert (
        Check("target push", "failed", "r/p: denied", "log in").line()
        == "failed  target push: r/p: denied (fix: log in)"
    )
    assert Check("source pull", "warn", "x").line() == "warn    source pull: x"


@pytest.mark.parametrize(("machine", "arch"), [("x86_64", "amd64"), ("aarch64", "arm64"), ("arm64", "arm64")])
def test_the_default_platform_on_another_machine_is_a_warning_and_a_given_one_is_fine(
    monkeypatch: pytest.MonkeyPatch, machine: str, arch: str
) -> None:
    """README doctor: "platform choice": the default (linux/amd64) on an arm64 machine warns with the flag to pass;
    a platform the user gave, or every platform, is the user's choice."""
    monkeypatch.setattr(platform, "machine", lambda: machine)
    amd64 = (parse_platform("linux/amd64"),)
    default = architecture(amd64, platform_given=False)
    if arch == "amd64":
        assert default == Check("platform", "ok", "mirroring linux/amd64 (this machine is amd64)")
    else:
        assert default == Check(
            "platform",
            "warn",
            f"this machine is {arch}; mirroring linux/amd64 (the default)",
            f"fine for amd64 clusters; for {arch} nodes pass --platform linux/{arch}",
        )
    assert architecture(amd64, platform_given=True).status == "ok"
    assert architecture(None, platform_given=True) == Check(
        "platform", "ok", f"mirroring all platforms (this machine is {arch})"
    )


def test_a_host_that_does_not_answer_gets_a_fix_about_the_host_not_credentials() -> None:
    """README doctor: "a host that does not answer gets a fix about the host, not credentials"."""
    assert doctor._connection_fix(UnreachableError("127.0.0.1:1: connection refused")) == REACHABLE_FIX
    assert doctor._connection_fix(UnreachableError("nvcr.example: the name does not resolve")) == (
        "the host name does not resolve from here: check its spelling, DNS, and HTTPS_PROXY"
    )
    assert doctor._connection_fix(TlsError("unknown CA")) == (
        "give the registry's CA with --ca-file, or name the host with --insecure-registry"
    )
    assert doctor._connection_fix(NotFoundError("no such manifest")) is None


def test_an_unreachable_source_and_target_fail_their_checks_with_the_hosts_fix(tmp_path: Path) -> None:
    source, target = f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"
    config = _config(tmp_path, source, f"{target}/p")
    jobs = config.jobs(resolve_versions=False)
    registries = config.registries()
    try:
        pull = doctor.source_pull(registries, jobs)
        push = doctor.target_push(config.access, registries, jobs)
    finally:
        registries.close()
    assert (pull.name, pull.status, pull.fix) == ("source pull", "failed", REACHABLE_FIX)
    assert pull.detail.startswith(f"{source}/org/team/a:1.0: ") and source in pull.detail
    assert (push.name, push.status, push.fix) == ("target push", "failed", REACHABLE_FIX)
    assert push.detail.startswith(f"{target}/p/a: ")


def test_nothing_to_pull_or_push_is_a_warning(tmp_path: Path) -> None:
    config = _config(tmp_path, f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}/p")
    registries = config.registries()
    try:
        assert doctor.source_pull(registries, []) == Check(
            "source pull", "warn", "no selected artifact comes from a registry"
        )
        assert doctor.target_push(config.access, registries, []) == Check(
            "target push", "warn", "nothing selected to push"
        )
    finally:
        registries.close()


def test_run_checks_are_pull_push_and_platform_for_a_generic_target_each_guarded(tmp_path: Path) -> None:
    """README: "one line per check: AWS identity (ECR), NGC pull access ..., target push rights, platform choice"."""
    config = _config(tmp_path, f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}/p")
    registries = config.registries()
    try:
        checks = doctor.run_checks(
            config.access, registries, config.jobs(resolve_versions=False), config.selected_platforms(), False
        )
    finally:
        registries.close()
    assert [c.name for c in checks] == ["source pull", "target push", "platform"]
