"""The flags of the commands that copy or unpack, each group gathered into one value: the settings of new
ECR repositories (RepositorySettings), archive limits (ExtractLimits), and what mirror and load share.
The flags' names and meaning are a contract (docs/CONTRACTS.md, "Command line")."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from provider_helper.archive_members import ExtractLimits
from provider_helper.aws import ecr
from provider_helper.errors import InputError
from provider_helper.mirror.engine import EngineOptions
from provider_helper.oci.reference import is_repository_path


def repository_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The settings ``--create-repos`` applies to new ECR repositories, gathered into one value."""
    options = [
        click.option(
            "--scan-on-push/--no-scan-on-push", default=True, show_default=True, help="ECR image scanning on push."
        ),
        click.option(
            "--tag-mutability",
            type=click.Choice(["MUTABLE", "IMMUTABLE"]),
            default="MUTABLE",
            show_default=True,
            help="Whether tags of new repositories can be overwritten.",
        ),
        click.option(
            "--encryption",
            type=click.Choice(["AES256", "KMS"]),
            default="AES256",
            show_default=True,
            help="Encryption of new repositories.",
        ),
        click.option("--kms-key", metavar="ARN", help="KMS key ARN; required with --encryption KMS."),
        click.option(
            "--repo-tag",
            "repo_tags",
            multiple=True,
            metavar="KEY=VALUE",
            help="Resource tag on new repositories (repeatable).",
        ),
        click.option(
            "--lifecycle-policy",
            type=click.Path(dir_okay=False),
            help="JSON lifecycle policy file applied to new repositories.",
        ),
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["repo_settings"] = ecr.RepositorySettings.build(
            kwargs.pop("scan_on_push"),
            kwargs.pop("tag_mutability"),
            kwargs.pop("encryption"),
            kwargs.pop("kms_key"),
            _key_values(kwargs.pop("repo_tags")),
            kwargs.pop("lifecycle_policy"),
        )
        return command(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _key_values(items: tuple[str, ...]) -> dict[str, str]:
    """``--repo-tag KEY=VALUE`` items as a map; the value may hold ``=`` and commas."""
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--repo-tag {item!r}: expected KEY=VALUE")
        parsed[key] = value
    return parsed


def extract_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Limits on what one archive may unpack to (a layout .tar, a resource's .tar.gz), as one value."""
    defaults = ExtractLimits()
    options = [
        click.option(
            "--max-extract-bytes",
            type=click.IntRange(1),
            default=defaults.max_bytes,
            show_default=True,
            help="Refuse an archive that unpacks to more bytes than this.",
        ),
        click.option(
            "--max-extract-members",
            type=click.IntRange(1),
            default=defaults.max_members,
            show_default=True,
            help="Refuse an archive with more entries than this.",
        ),
        click.option(
            "--max-extract-ratio",
            type=click.FloatRange(1),
            default=defaults.max_ratio,
            show_default=True,
            help="Refuse a compressed archive that unpacks to more than this many times its size.",
        ),
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["limits"] = ExtractLimits(
            kwargs.pop("max_extract_bytes"), kwargs.pop("max_extract_members"), kwargs.pop("max_extract_ratio")
        )
        return command(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _repository_prefixes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not is_repository_path(v.strip("/"))]
    if bad:
        raise click.BadParameter(f"{bad[0]!r} is not a repository path prefix")
    return tuple(v.strip("/") for v in values)


def copy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What mirror and load share: the result file, dry run, repository creation and concurrency."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--result-file",
            type=click.Path(dir_okay=False, writable=True),
            help="Write the result document (JSON) here.",
        ),
        click.option("--dry-run", is_flag=True, help="Resolve and compare with the target; push nothing."),
        click.option(
            "--create-repos",
            is_flag=True,
            help="Create missing ECR repositories {prefix}/{name} first, with the settings below.",
        ),
        repository_options,
        click.option(
            "--jobs",
            type=click.IntRange(1, 64),
            default=EngineOptions.jobs,
            show_default=True,
            help="Artifacts copied at once.",
        ),
        click.option(
            "--blob-jobs",
            type=click.IntRange(1, 64),
            default=EngineOptions.blob_jobs,
            show_default=True,
            help="Most blob transfers at once, across all artifacts; "
            "fewer while the registry answers 429, 503 or resets.",
        ),
        click.option(
            "--check-jobs",
            type=click.IntRange(1, 64),
            default=EngineOptions.check_jobs,
            show_default=True,
            help="Artifacts compared with the target at once (one small request to each side).",
        ),
        click.option(
            "--mount-from",
            "mount_from",
            multiple=True,
            metavar="PREFIX",
            callback=_repository_prefixes,
            help="A prefix of the target registry (another cluster's) whose same-named repositories lend blobs by "
            "cross-repository mount instead of an upload (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
