"""Amazon ECR: registry hosts, tokens from GetAuthorizationToken, repositories, PutImage quota.

Everything AWS goes through boto3's default credential chain (env, profile, SSO, IRSA) and
honours ``AWS_ENDPOINT_URL_ECR`` / ``AWS_ENDPOINT_URL_STS``, so a local endpoint works in tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provider_helper.errors import InputError, RegistryError
from provider_helper.registry.credentials import Credential
from provider_helper.wording import setting

log = logging.getLogger("nvcf-mirror")

_HOST_RE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?", re.ASCII
)
PUT_IMAGE_PER_SECOND = 10
MIN_TOKEN_REUSE = 300.0  # seconds; an expiresAt already past (moto says 2015) must not refetch on every request
REFRESH_BEFORE = 600.0


@dataclass(frozen=True)
class EcrRegistry:
    account: str | None
    region: str


def parse_ecr_host(host: str) -> EcrRegistry | None:
    match = _HOST_RE.fullmatch(host)
    return EcrRegistry(match["account"], match["region"]) if match else None


def aws_errors() -> tuple[type[Exception], ...]:
    """botocore's failures, imported only when AWS is used (boto3 costs a quarter second to import)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def client(service: str, region: str) -> Any:
    """A botocore client with adaptive retries (ECR throttles with ThrottlingException). botocore's own
    session, not boto3's: the same credential chain and endpoint variables, without importing boto3
    and s3transfer (a fifth of a second on every Terraform data source)."""
    import botocore.session
    from botocore.config import Config

    try:
        return botocore.session.get_session().create_client(
            service, region_name=region, config=Config(retries={"mode": "adaptive", "max_attempts": 8})
        )
    except aws_errors() as exc:
        raise InputError(f"AWS {service} client for {region}: {exc}") from None


def aws_error(exc: Exception, doing: str) -> Exception:
    """One line for a botocore failure; missing AWS credentials are the user's to fix (exit 2)."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return InputError(f"{doing}: no AWS credentials found (boto3 default chain: env, profile, SSO, IRSA)")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in (
            "UnrecognizedClientException",
            "InvalidSignatureException",
            "ExpiredTokenException",
            "AccessDeniedException",
        ):
            return InputError(f"{doing}: AWS rejected the credentials ({code})")
        return RegistryError(f"{doing}: {code}: {error.get('Message', '')}".rstrip(": "))
    return RegistryError(f"{doing}: {type(exc).__name__}")


class EcrToken:
    """The registry credential from GetAuthorizationToken, cached until shortly before it expires.
    ``ecr`` makes the client when the first token is needed: a run that never talks to the target
    (``plan``, Terraform's plan step) never loads botocore."""

    def __init__(self, ecr: Callable[[], Any], registry_id: str | None, clock: Any = time.time) -> None:
        self._ecr = ecr
        self._registry_id = registry_id
        self._clock = clock
        self._lock = threading.Lock()
        self._credential: Credential | None = None
        self._fetched_at = 0.0
        self._refresh_at = 0.0

    def get(self, *, refresh: bool = False) -> Credential | None:
        with self._lock:
            now = self._clock()
            if self._credential is None or now >= self._refresh_at or (refresh and now >= self._fetched_at + 1.0):
                self._fetch(now)
            return self._credential

    def _fetch(self, now: float) -> None:
        kwargs = {"registryIds": [self._registry_id]} if self._registry_id else {}
        try:
            data = self._ecr().get_authorization_token(**kwargs)["authorizationData"][0]
        except aws_errors() as exc:
            raise aws_error(exc, "ecr get-authorization-token") from None
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        expires = data.get("expiresAt")
        expires_ts = expires.timestamp() if isinstance(expires, dt.datetime) else now + 12 * 3600
        self._credential = Credential(user, password)
        self._fetched_at = now
        self._refresh_at = max(expires_ts - REFRESH_BEFORE, now + MIN_TOKEN_REUSE)


@dataclass(frozen=True)
class RepositorySettings:
    """What ``--create-repos`` applies to a new repository."""

    scan_on_push: bool = True
    tag_mutability: str = "MUTABLE"
    encryption: str = "AES256"
    kms_key: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    lifecycle_policy: str | None = None  # JSON text

    @classmethod
    def build(
        cls,
        scan_on_push: bool,
        tag_mutability: str,
        encryption: str,
        kms_key: str | None,
        tags: Mapping[str, str],
        lifecycle_policy_file: str | None,
    ) -> RepositorySettings:
        if encryption == "KMS" and not kms_key:
            raise InputError(f"{setting('encryption')} KMS needs {setting('kms_key')} ARN")
        if kms_key and encryption != "KMS":
            raise InputError(f"{setting('kms_key')} goes with {setting('encryption')} KMS")
        policy = None
        if lifecycle_policy_file:
            try:
                policy = Path(lifecycle_policy_file).read_text()
                json.loads(policy)
            except OSError as exc:
                raise InputError(f"{lifecycle_policy_file}: cannot read lifecycle policy: {exc.strerror}") from None
            except ValueError:
                raise InputError(f"{lifecycle_policy_file}: the lifecycle policy is not valid JSON") from None
        return cls(scan_on_push, tag_mutability, encryption, kms_key, dict(tags), policy)


class Repositories:
    """Create and delete ECR repositories; never touches a name outside the prefix it is given."""

    def __init__(self, ecr: Any, registry_id: str | None) -> None:
        self.ecr = ecr
        self.registry_id = registry_id

    def _ids(self) -> dict[str, Any]:
        return {"registryId": self.registry_id} if self.registry_id else {}

    def under(self, prefix: str) -> list[str]:
        """Every repository named ``prefix/…``."""
        names: list[str] = []
        try:
            for page in self.ecr.get_paginator("describe_repositories").paginate(**self._ids()):
                names.extend(
                    r["repositoryName"]
                    for r in page["repositories"]
                    if r["repositoryName"].startswith(prefix.rstrip("/") + "/")
                )
        except aws_errors() as exc:
            raise aws_error(exc, "ecr describe-repositories") from None
        return sorted(names)

    def existing(self, names: Iterable[str]) -> set[str]:
        """Those of ``names`` that exist."""
        wanted = set(names)
        found: set[str] = set()
        for prefix in {n.rsplit("/", 1)[0] for n in wanted if "/" in n}:
            found.update(self.under(prefix))
        found.update(self._existing_top_level([n for n in wanted if "/" not in n]))
        return found & wanted

    def ensure(self, names: Iterable[str], settings: RepositorySettings) -> list[str]:
        """Create the missing ones; return those created. Existing repositories are left as they are."""
        wanted = sorted(set(names))
        existing = self.existing(wanted)
        created = []
        for name in wanted:
            if name in existing:
                continue
            if self._create(name, settings):
                created.append(name)
        return created

    def _existing_top_level(self, names: list[str]) -> set[str]:
        found = set()
        for name in names:
            try:
                self.ecr.describe_repositories(repositoryNames=[name], **self._ids())
                found.add(name)
            except self.ecr.exceptions.RepositoryNotFoundException:
                pass
            except aws_errors() as exc:
                raise aws_error(exc, f"ecr describe-repositories {name}") from None
        return found

    def _create(self, name: str, settings: RepositorySettings) -> bool:
        encryption = {
            "encryptionType": settings.encryption,
            **({"kmsKey": settings.kms_key} if settings.kms_key else {}),
        }
        try:
            self.ecr.create_repository(
                repositoryName=name,
                imageTagMutability=settings.tag_mutability,
                imageScanningConfiguration={"scanOnPush": settings.scan_on_push},
                encryptionConfiguration=encryption,
                tags=[{"Key": k, "Value": v} for k, v in settings.tags.items()],
                **self._ids(),
            )
        except self.ecr.exceptions.RepositoryAlreadyExistsException:
            return False  # created meanwhile by a concurrent run
        except aws_errors() as exc:
            raise aws_error(exc, f"ecr create-repository {name}") from None
        if settings.lifecycle_policy:
            try:
                self.ecr.put_lifecycle_policy(
                    repositoryName=name, lifecyclePolicyText=settings.lifecycle_policy, **self._ids()
                )
            except aws_errors() as exc:
                raise aws_error(exc, f"ecr put-lifecycle-policy {name}") from None
        log.info("created  ECR repository %s", name)
        return True

    def delete(self, names: Iterable[str], prefix: str) -> None:
        for name in names:
            if not name.startswith(prefix.rstrip("/") + "/"):
                raise InputError(f"refusing to delete {name}: it is outside {prefix}/")
            try:
                self.ecr.delete_repository(repositoryName=name, force=True, **self._ids())
            except self.ecr.exceptions.RepositoryNotFoundException:
                continue
            except aws_errors() as exc:
                raise aws_error(exc, f"ecr delete-repository {name}") from None
            log.info("deleted  ECR repository %s", name)


BATCH_DELETE_IDS = 100  # BatchDeleteImage takes at most 100 image ids a call


def delete_images(
    ecr_client: Any, registry_id: str | None, repo: str, tags: Iterable[str], digests: Iterable[str]
) -> list[str]:
    """BatchDeleteImage: each tag untagged (its image deleted with its last tag), each digest deleted;
    returns the ids ECR refused, with its reason. An image already gone is not a failure."""
    ids = [{"imageTag": t} for t in tags] + [{"imageDigest": d} for d in digests]
    refused = []
    for start in range(0, len(ids), BATCH_DELETE_IDS):
        try:
            answer = ecr_client.batch_delete_image(
                repositoryName=repo,
                imageIds=ids[start : start + BATCH_DELETE_IDS],
                **({"registryId": registry_id} if registry_id else {}),
            )
        except aws_errors() as exc:
            raise aws_error(exc, f"ecr batch-delete-image {repo}") from None
        for failure in answer.get("failures") or []:
            if failure.get("failureCode") != "ImageNotFound":
                image = failure.get("imageId") or {}
                why = failure.get("failureReason") or failure.get("failureCode")
                refused.append(f"{image.get('imageTag') or image.get('imageDigest')}: {why}")
    return refused
