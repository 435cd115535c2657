"""Unit tests of provider_helper/doctor.py: a host that does not answer gets a fix about the host, not credentials."""

from __future__ import annotations

import os
import platform
import re
import socket
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest
from hostile import Reply, ScriptedServer

from provider_helper import doctor, targets
from provider_helper.doctor import Check, architecture
from provider_helper.errors import NotFoundError, TlsError, UnreachableError
from provider_helper.oci.reference import parse_platform, parse_target
from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig
from provider_helper.targets import TargetAccess


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("host", "reason", "fix"),
    [
        (
            "nvcf-mirror-test.invalid",
            "the name does not resolve (check the host name, DNS and HTTPS_PROXY)",
            "the host name does not resolve from here: check its spelling, DNS, and HTTPS_PROXY",
        ),
        (
            "127.0.0.1:{port}",
            "connection refused (nothing listens on that port)",
            "make the host reachable from here (its port, a firewall, HTTPS_PROXY)",
        ),
    ],
)
def test_doctor_gives_a_host_that_does_not_answer_a_fix_about_the_host_not_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, reason: str, fix: str
) -> None:
    """README Use: "`nvcf-mirror doctor` | ... a host that does not answer gets a fix about the host, not
    credentials". The source pull and target push lines, whole, for a name that does not resolve (`.invalid`
    never does) and a port nothing listens on."""
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    host = host.format(port=_closed_port())
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/nvidia/app:1", "group": "test"}]
    )
    done = run_cli(
        "doctor", "--manifest", str(manifest), "--source-registry", host, "--target", f"{host}/c1", "--retries", "1"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"failed  source pull: {host}/nvidia/app:1: ping {host}: cannot reach {host}: {reason} (fix: {fix})" in lines
    assert f"failed  target push: {host}/c1/app: ping {host}: cannot reach {host}: {reason} (fix: {fix})" in lines
    assert "credentials" not in done.stdout and "NGC_API_KEY" not in done.stdout


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


@pytest.mark.parametrize(("account", "status"), [("123456789012", "ok"), ("999999999999", "warn")])
def test_the_aws_identity_is_checked_against_the_registrys_account(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, account: str, status: str
) -> None:
    """README doctor: "AWS identity (ECR)": credentials of another account than the registry's are a warning with
    the fix. Real parts: moto as STS (its caller is in account 123456789012)."""
    for key, value in sandbox.aws.env().items():
        monkeypatch.setenv(key, value)
    access = targets.resolve(f"{account}.dkr.ecr.us-east-1.amazonaws.com/p", "auto", None, None, None, os.environ)
    check = doctor.aws_identity(access)
    assert (check.name, check.status) == ("AWS identity", status)
    if status == "ok":
        assert re.fullmatch(r"arn:aws:\S+ \(account 123456789012\)", check.detail), check.detail
    else:
        assert re.fullmatch(
            r"arn:aws:\S+ is in account 123456789012, the target registry is 999999999999", check.detail
        )
        assert check.fix == "use credentials of the registry's account, or make sure cross-account push is allowed"


def test_a_source_tag_that_is_not_there_fails_the_pull_check(
    sandbox: Sandbox, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README doctor: "NGC pull access (the digest plan shows)": a tag the source lacks fails, naming it."""
    monkeypatch.setenv("NGC_API_KEY", sandbox.api_key)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/absent:1", "group": "test"}]
    )
    config = RunConfig(target="registry.example/p", manifest=str(manifest), source_registry=sandbox.source.host)
    registries = config.source_registries()
    try:
        check = doctor.source_pull(registries, config.jobs(resolve_versions=False))
    finally:
        registries.close()
    assert check == Check(
        "source pull",
        "failed",
        f"{sandbox.source.host}/{ns}/nvidia/absent:1 not found",
        "check the manifest or --source-registry",
    )


def test_a_missing_ecr_repository_gets_the_create_repos_fix(tmp_path: Path, servers: list[ScriptedServer]) -> None:
    """README doctor: "target push rights": at ECR a repository that does not exist yet is fixed by mirroring with
    --create-repos, not by other credentials. The registry is a scripted server that answers NAME_UNKNOWN to the
    upload, as ECR does (Distribution makes repositories on push, so it never answers so)."""

    def route(server: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path == "/v2/":
            return Reply(200, {"Content-Type": "application/json"}, b"{}")
        body = b'{"errors": [{"code": "NAME_UNKNOWN", "message": "repository does not exist"}]}'
        return Reply(404, {"Content-Type": "application/json"}, body)

    registry = ScriptedServer("127.0.0.1", route)
    servers.append(registry)
    config = _config(tmp_path, f"127.0.0.1:{closed_port()}", f"{registry.host}/p")
    access = TargetAccess(parse_target(f"{registry.host}/p"), "ecr", region="us-east-1", account="123456789012")
    registries = config.source_registries()
    try:
        push = doctor.target_push(access, registries, config.jobs(resolve_versions=False))
    finally:
        registries.close()
    assert (push.status, push.fix) == ("failed", "run mirror with --create-repos")
    assert push.detail.startswith(f"{registry.host}/p/a: repository/project p/a does not exist at {registry.host}")
    generic = TargetAccess(parse_target(f"{registry.host}/p"), "generic")
    registries = config.source_registries()
    try:
        push = doctor.target_push(generic, registries, config.jobs(resolve_versions=False))
    finally:
        registries.close()
    assert push.fix == "check the target credentials and permissions", "elsewhere a project is made by its owner"


def test_a_check_that_raises_is_its_own_failed_line_named_as_the_check(tmp_path: Path) -> None:
    """README doctor: "one line per check": an error no check caught itself is that check's failed line (it was
    named "<lambda>" before), and the other checks still run."""

    def raising() -> Check:
        raise UnreachableError("127.0.0.1:1: connection refused")

    line = doctor._guarded("source pull", raising)
    assert (line.name, line.status) == ("source pull", "failed") and "127.0.0.1:1" in line.detail
    assert doctor._guarded("platform", lambda: Check("platform", "ok", "fine")) == Check("platform", "ok", "fine")
