"""``nvcf-mirror doctor``: the checks a first run depends on, one line each, with the fix."""

from __future__ import annotations

import os
import platform as host_platform
from collections.abc import Callable
from dataclasses import dataclass

from provider_helper.aws import ecr
from provider_helper.content.pool import RegistryPool
from provider_helper.errors import InputError, RegistryError, TlsError, UnreachableError
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import resolve
from provider_helper.oci.reference import Platform
from provider_helper.retry import describe
from provider_helper.targets import TargetAccess

_MACHINE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, failed, warn
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:7} {self.name}: {self.detail}"
        return f"{text} (fix: {self.fix})" if self.fix else text


def run_checks(
    access: TargetAccess,
    registries: RegistryPool,
    jobs: list[Job],
    platforms: tuple[Platform, ...] | None,
    platform_given: bool,
) -> list[Check]:
    checks: list[tuple[str, Callable[[], Check]]] = []
    if access.kind == "ecr":
        checks.append(("AWS identity", lambda: aws_identity(access)))
    checks += [
        ("source pull", lambda: source_pull(registries, jobs)),
        ("target push", lambda: target_push(access, registries, jobs)),
        ("platform", lambda: architecture(platforms, platform_given)),
    ]
    return [_guarded(name, check) for name, check in checks]


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check that raised is its own failed line, named as the check (the others still run)."""
    try:
        return check()
    except (InputError, RegistryError) as exc:
        return Check(name, "failed", describe(exc))


def aws_identity(access: TargetAccess) -> Check:
    assert access.region is not None
    try:
        identity = ecr.client("sts", access.region).get_caller_identity()
    except ecr.aws_errors() as exc:
        return Check(
            "AWS identity",
            "failed",
            str(ecr.aws_error(exc, "sts get-caller-identity")),
            "configure AWS credentials (aws configure, AWS_PROFILE, SSO or IRSA) with ECR push rights",
        )
    if access.account and identity["Account"] != access.account:
        return Check(
            "AWS identity",
            "warn",
            f"{identity['Arn']} is in account {identity['Account']}, the target registry is {access.account}",
            "use credentials of the registry's account, or make sure cross-account push is allowed",
        )
    return Check("AWS identity", "ok", f"{identity['Arn']} (account {identity['Account']})")


def source_pull(registries: RegistryPool, jobs: list[Job]) -> Check:
    job = next((j for j in jobs if j.source is not None and not j.skip_reason), None)
    if job is None or job.source is None:
        return Check("source pull", "warn", "no selected artifact comes from a registry")
    client = registries.get(job.source.registry)
    org = (job.artifact.image or job.source).repository.split("/", 1)[
        0
    ]  # the NGC organisation: the upstream's first path part
    fix = (
        f"set NGC_API_KEY to a key of the NGC organisation {org}"
        if not os.environ.get("NGC_API_KEY")
        else "check the key is entitled to this repository"
    )
    try:
        client.ping()
        if client.head_manifest(job.source.repository, job.source.reference) is None:
            return Check("source pull", "failed", f"{job.source} not found", "check the manifest or --source-registry")
        digest = resolve(client, job.source, job.platforms).digest  # what plan shows: the platform's, not the index
    except (RegistryError, InputError) as exc:
        return Check("source pull", "failed", f"{job.source}: {describe(exc)}", _connection_fix(exc) or fix)
    return Check("source pull", "ok", f"{job.source} resolves to {digest}")


def _connection_fix(exc: Exception) -> str | None:
    """What to do when the host did not answer at all: credentials are not the problem then."""
    if isinstance(exc, TlsError):
        return "give the registry's CA with --ca-file, or name the host with --insecure-registry"
    if isinstance(exc, UnreachableError):
        if "does not resolve" in str(exc):
            return "the host name does not resolve from here: check its spelling, DNS, and HTTPS_PROXY"
        return "make the host reachable from here (its port, a firewall, HTTPS_PROXY)"
    return None


def target_push(access: TargetAccess, registries: RegistryPool, jobs: list[Job]) -> Check:
    """Open an upload in the first selected repository and cancel it: proves push rights, stores nothing."""
    job = next((j for j in jobs if not j.skip_reason), None)
    if job is None:
        return Check("target push", "warn", "nothing selected to push")
    client = registries.get(access.target.registry)
    repo = job.target.repository
    try:
        if not client.ping():
            return Check(
                "target push",
                "failed",
                f"{access.target.registry} wants credentials and none were found",
                "docker/podman login, or --target-username with --password-stdin",
            )
        location = client.start_upload(repo)
    except (RegistryError, InputError) as exc:
        missing_repo = access.kind == "ecr" and "does not exist" in str(exc)
        fix = _connection_fix(exc) or (
            "run mirror with --create-repos" if missing_repo else "check the target credentials and permissions"
        )
        return Check("target push", "failed", f"{access.target.registry}/{repo}: {describe(exc)}", fix)
    client.cancel_upload(location)
    return Check("target push", "ok", f"{access.target.registry}/{repo} accepts uploads")


def architecture(platforms: tuple[Platform, ...] | None, platform_given: bool) -> Check:
    machine = _MACHINE_ARCH.get(host_platform.machine().lower(), host_platform.machine())
    wanted = ", ".join(map(str, platforms)) if platforms else "all platforms"
    if platforms and not platform_given and all(p.architecture != machine for p in platforms):
        return Check(
            "platform",
            "warn",
            f"this machine is {machine}; mirroring {wanted} (the default)",
            f"fine for amd64 clusters; for {machine} nodes pass --platform linux/{machine}",
        )
    return Check("platform", "ok", f"mirroring {wanted} (this machine is {machine})")
