"""What Terraform sends, as settings: the external data source's query and the apply step's
$NVCF_MIRROR_SETTINGS, both one JSON object of strings, read into a RunConfig and RepositorySettings.
The module variables they carry are a contract (docs/CONTRACTS.md, "Terraform")."""

from __future__ import annotations

import json
from collections.abc import Mapping

from provider_helper import wording
from provider_helper.aws import ecr
from provider_helper.errors import InputError, SettingError
from provider_helper.session import RunConfig

QUERY_KEYS = {
    "mode",
    "target_registry",
    "repository_prefix",
    "aws_region",
    "target_type",
    "manifest_path",
    "groups",
    "platforms",
    "source_registry",
    "source_map",
    "insecure_registries",
    "mirror_id",
    "create_repos",
    "set_versions",
    "signatures",
    "exclude",
    "scan_on_push",
    "tag_mutability",
    "encryption",
    "kms_key",
    "repository_tags",
    "lifecycle_policy_file",
    "delete_repositories_on_destroy",  # sent by module versions before repositories were resources; ignored
    "ca_file",
    "release",
    "prune_superseded",
}


def read_query(text: str) -> dict[str, str]:
    """The external provider sends one JSON object; every value must be a string."""
    try:
        query = json.loads(text or "{}")
    except ValueError:
        raise InputError("the query on stdin is not JSON") from None
    if not isinstance(query, dict):
        raise InputError("the query must be a JSON object")
    bad = sorted(k for k, v in query.items() if not isinstance(v, str))
    if bad:
        raise InputError(f"query values must be strings; not a string: {', '.join(bad)}")
    unknown = sorted(set(query) - QUERY_KEYS)
    if unknown:
        raise InputError(f"unknown query keys: {', '.join(unknown)}")
    return query


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def config_from(query: Mapping[str, str]) -> RunConfig:
    target_type = query.get("target_type") or "ecr"
    registry = query.get("target_registry") or ""
    region = query.get("aws_region") or None
    if not registry:
        if target_type == "generic":
            raise InputError("target_registry is required for a generic target")
        registry = ecr_registry_host(region)
    prefix = query.get("repository_prefix", "")
    platforms = _list(query.get("platforms"))
    return RunConfig(
        target=f"{registry}/{prefix}" if prefix else registry,
        manifest=query.get("manifest_path") or None,
        release=query.get("release") or None,
        groups=_list(query.get("groups")),
        excludes=_list(query.get("exclude")),
        platforms=() if platforms == ("all",) else platforms,
        all_platforms=platforms == ("all",),
        source_registry=query.get("source_registry") or None,
        source_map=tuple(
            f"{upstream}={mirror}" for upstream, mirror in _string_map(query.get("source_map"), "source_map").items()
        ),
        target_type=target_type,
        insecure_registries=_list(query.get("insecure_registries")),
        set_versions=tuple(
            f"{name}={version}" for name, version in _string_map(query.get("set_versions"), "set_versions").items()
        ),
        aws_region=region,
        signatures=query.get("signatures", "true") != "false",
        ca_file=query.get("ca_file") or None,
    )


def ecr_registry_host(region: str | None) -> str:
    """``{account}.dkr.ecr.{region}.amazonaws.com`` for the caller's account (STS GetCallerIdentity)."""
    if not region:
        raise InputError("aws_region is required to name the ECR registry")
    try:
        account = ecr.client("sts", region).get_caller_identity()["Account"]
    except Exception as exc:  # noqa: BLE001 -- botocore's errors, reported as one line
        raise ecr.aws_error(exc, "sts get-caller-identity") from None
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"{account}.dkr.ecr.{region}.amazonaws.com{suffix}"


def in_variables(exc: SettingError) -> str:
    """A setting's error as the module variable that set it: ``set_versions["NAME"]: problem``."""
    value = f" = {json.dumps(exc.value)}" if exc.value is not None else ""
    return f"{wording.setting(exc.setting)}[{json.dumps(exc.item)}]{value}: {exc.problem}"


def _string_map(value: str | None, name: str) -> dict[str, str]:
    """Maps arrive JSON-encoded (values may hold commas)."""
    try:
        mapping = json.loads(value or "{}")
    except ValueError:
        raise InputError(f"{name} must be a JSON object of strings") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise InputError(f"{name} must be a JSON object of strings")
    return mapping


def repository_settings(settings: Mapping[str, str]) -> ecr.RepositorySettings:
    """What the apply step applies to repositories it creates. The module manages its repositories as
    resources and sends ``create_repos = "false"``; module versions before that sent these."""
    return ecr.RepositorySettings.build(
        scan_on_push=settings.get("scan_on_push", "true") == "true",
        tag_mutability=settings.get("tag_mutability") or "MUTABLE",
        encryption=settings.get("encryption") or "AES256",
        kms_key=settings.get("kms_key") or None,
        tags=_string_map(settings.get("repository_tags"), "repository_tags"),
        lifecycle_policy_file=settings.get("lifecycle_policy_file") or None,
    )
