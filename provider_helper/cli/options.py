"""The flags commands share (selection, target, connection), gathered into a RunConfig.
The flags' names and meaning are a contract (docs/CONTRACTS.md, "Command line")."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from provider_helper.errors import InputError
from provider_helper.manifest import releases
from provider_helper.retry import RetryPolicy
from provider_helper.session import RunConfig


def read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError('--password-stdin: pipe the password in, e.g. printf %s "$PASSWORD" | nvcf-mirror …')
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise InputError("--password-stdin: standard input was empty")
    return password


SELECTION_OPTIONS = [
    click.option(
        "--manifest",
        "manifest",
        type=click.Path(dir_okay=False),
        help="Artifact manifest (default: the bundled NVCF v0.5 list).",
    ),
    click.option(
        "--release", metavar="NAME", help=f"A bundled NVCF release's manifest: {', '.join(releases())} (default: v0.5)."
    ),
    click.option(
        "--group",
        "groups",
        multiple=True,
        metavar="NAME",
        help="Group to select (repeatable; default: the manifest's default groups).",
    ),
    click.option("--all-groups", is_flag=True, help="Select every group."),
    click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="OS/ARCH[/VARIANT]",
        help="Platform to copy (repeatable; default: linux/amd64).",
    ),
    click.option("--all-platforms", is_flag=True, help="Copy whole indexes byte-identical, attestations included."),
    click.option(
        "--source-registry", metavar="HOST[:PORT]", help="Replace nvcr.io in every source (a mirror, a proxy, tests)."
    ),
    click.option(
        "--source-map",
        "source_map",
        multiple=True,
        metavar="UPSTREAM=MIRROR",
        help="Read an upstream registry (docker.io, ghcr.io, quay.io, nvcr.io, …) or a classic Helm repository's host "
        "through MIRROR, HOST[:PORT][/PREFIX]: a pull-through cache or a local stand-in (repeatable).",
    ),
    click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="NAME",
        help="Leave the artifact of this name out of the selection (repeatable).",
    ),
    click.option(
        "--set-version",
        "set_versions",
        multiple=True,
        metavar="NAME[:TAG]=VERSION|latest",
        help="Set an artifact's version, pinned or not (repeatable; NAME:TAG picks one entry of a name listed "
        "more than once); latest: the newest published version of the same flavour "
        "(0.19.2-nonroot: the newest -nonroot).",
    ),
]
TARGET_OPTIONS = [
    click.option(
        "--target",
        metavar="REGISTRY[/PREFIX]",
        help="Where artifacts land, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster.",
    ),
    click.option(
        "--target-type",
        type=click.Choice(["auto", "ecr", "generic"]),
        default="auto",
        show_default=True,
        help="auto: ECR when the host is an ECR registry host.",
    ),
    click.option(
        "--aws-region", metavar="REGION", help="ECR region when the target host does not name it (default: AWS_REGION)."
    ),
    click.option(
        "--target-username",
        metavar="USER",
        help="Generic target: user name; the password comes from --password-stdin or NVCF_MIRROR_TARGET_PASSWORD.",
    ),
    click.option("--password-stdin", is_flag=True, help="Generic target: read the password from standard input."),
]
CONNECTION_OPTIONS = [
    click.option(
        "--insecure-registry",
        "insecure_registries",
        multiple=True,
        metavar="HOST",
        help="HOST gets TLS without verification, or plain HTTP when it does not speak TLS "
        "(loopback hosts always use HTTP).",
    ),
    click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False),
        help="PEM bundle of a private CA for TLS to registries.",
    ),
    click.option(
        "--retries",
        type=click.IntRange(1, 20),
        default=RetryPolicy.attempts,
        show_default=True,
        help="Attempts per request or blob on connection errors, 429 and 5xx "
        "(exponential backoff with jitter, honouring Retry-After).",
    ),
]


no_signatures_option = click.option(
    "--no-signatures",
    "signatures",
    is_flag=True,
    flag_value=False,
    default=True,
    help="Leave cosign signatures, attestations, SBOMs and OCI referrers behind (copied by default).",
)

recheck_signatures_option = click.option(
    "--recheck-signatures",
    is_flag=True,
    help="For artifacts already at the target, also read each signature, attestation, SBOM and referrer at the source "
    "and replace those whose digest changed (a re-signed image); by default a warm run checks them by name, "
    "one source request per artifact.",
)


def run_config_options(
    *, selection: bool = True, target: str | None = "required"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the COMMON flags (or the selection or target half of them) and hand the command a RunConfig.

    ``target``: "required", "optional" (the command checks when it needs one), or None."""
    options = (SELECTION_OPTIONS if selection else []) + (TARGET_OPTIONS if target else []) + CONNECTION_OPTIONS

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            password = read_password_stdin() if kwargs.pop("password_stdin", False) else None
            given = {k: kwargs.pop(k) for k in list(kwargs) if k in RunConfig.__dataclass_fields__}
            if given.get("target") is None:
                if target == "required":
                    raise click.UsageError("Missing option '--target'.")
                given.pop("target", None)
            config = RunConfig(**{"target": "", **given}, target_password=password)
            return command(*args, config, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


common_options = run_config_options()
