"""What kind of registry the target is, and how to reach it: ECR (boto3 tokens, repositories,
PutImage quota) or any other OCI registry (auth files, or a username with a password on stdin)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from provider_helper.aws import ecr
from provider_helper.errors import InputError
from provider_helper.oci.reference import Target, parse_target
from provider_helper.registry.credentials import (
    Credential,
    CredentialSource,
    StaticCredential,
)
from provider_helper.registry.ratelimit import RateLimiter
from provider_helper.wording import setting

PASSWORD_ENV = "NVCF_MIRROR_TARGET_PASSWORD"


@dataclass
class TargetAccess:
    target: Target
    kind: str  # "ecr" or "generic"
    region: str | None = None
    account: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @cached_property
    def ecr_client(self) -> Any:
        assert self.region is not None
        return ecr.client("ecr", self.region)

    def credentials(self) -> CredentialSource | None:
        """None: look the target up in auth files like any other host."""
        if self.kind == "ecr":
            return ecr.EcrToken(lambda: self.ecr_client, self.account)
        if self.username:
            return StaticCredential(Credential(self.username, self.password or ""))
        return None

    def manifest_put_limiter(self) -> RateLimiter | None:
        return RateLimiter(ecr.PUT_IMAGE_PER_SECOND) if self.kind == "ecr" else None

    def repositories(self) -> ecr.Repositories:
        if self.kind != "ecr":
            raise InputError(
                f"{setting('create_repos')} works with ECR targets; "
                f"create the project or repositories at {self.target.registry} first"
            )
        return ecr.Repositories(self.ecr_client, self.account)


def resolve(
    text: str, target_type: str, region: str | None, username: str | None, password: str | None, env: Mapping[str, str]
) -> TargetAccess:
    target = parse_target(text)
    host_info = ecr.parse_ecr_host(target.registry)
    kind = target_type if target_type != "auto" else ("ecr" if host_info else "generic")
    if kind == "generic":
        password = password if password is not None else env.get(PASSWORD_ENV)
        if password is not None and not username:
            raise InputError(
                f"a target password was given (stdin or {PASSWORD_ENV}) without {setting('target_username')}"
            )
        if username and password is None:
            raise InputError(
                f"{setting('target_username')} needs the password on standard input "
                f"({setting('password_stdin')}) or in {PASSWORD_ENV}"
            )
        return TargetAccess(target, "generic", username=username, password=password)
    if username:
        raise InputError(
            f"{setting('target_username')} is for generic targets; "
            "ECR credentials come from AWS (boto3's default chain)"
        )
    if host_info is None and not _named_ecr_endpoint(target.registry, env):
        raise InputError(
            f"{setting('target')} {target.registry}: an ECR target, but neither an ECR registry "
            "(ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]) nor on the host AWS_ENDPOINT_URL_ECR names: "
            "refusing to send it an ECR token"
        )
    region = (
        region or (host_info.region if host_info else None) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    )
    if not region:
        raise InputError(f"cannot tell the AWS region of {target.registry}: use {setting('aws_region')} or AWS_REGION")
    return TargetAccess(target, "ecr", region=region, account=host_info.account if host_info else None)


def _named_ecr_endpoint(registry: str, env: Mapping[str, str]) -> bool:
    """Whether ``registry`` is on the host of the ECR endpoint the environment names (``AWS_ENDPOINT_URL_ECR``,
    else ``AWS_ENDPOINT_URL``): a VPC endpoint, a local stand-in. The ECR token (push and pull on the whole
    account for 12 hours) goes to no host the user did not name as ECR's."""
    endpoint = env.get("AWS_ENDPOINT_URL_ECR") or env.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return False
    named = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname
    return named is not None and urlsplit(f"https://{registry}").hostname == named.lower()
