"""The ``nvcf-mirror`` command line: parse flags, call manifest → plan → copy, print results.

Nothing here knows how to copy; it wires the stages together and maps errors to exit codes:
0 all done, 1 some artifacts failed, 2 bad input (one line, no traceback).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import yaml

from provider_helper import importers, ngc_api
from provider_helper import manifest as manifest_mod
from provider_helper.archives import ArchiveError, ExtractLimits, safe_extract
from provider_helper.doctor import run_checks
from provider_helper.errors import InputError, RegistryError
from provider_helper.fsutil import atomic_write
from provider_helper.manifest import Artifact
from provider_helper.mirror import ngc, versions
from provider_helper.mirror.engine import EngineOptions
from provider_helper.mirror.layout import (
    LAYOUT_TARGET,
    LayoutSource,
    LayoutTarget,
    pack,
    write_lock,
    writer_lock,
)
from provider_helper.mirror.plan import Job
from provider_helper.mirror.sources import PayloadFor
from provider_helper.mirror.verify import verify_all
from provider_helper.progress import LogReporter, on_terminal, reporting, stderr_console
from provider_helper.redact import RedactingFilter, redact
from provider_helper.refs import parse_target
from provider_helper.registry import ecr
from provider_helper.registry.retry import RetryPolicy
from provider_helper.registry.tls import verifying_context
from provider_helper.results import ArtifactResult, document, dumps, print_table
from provider_helper.session import (
    PublishedVersions,
    RunConfig,
    payloads,
    planned,
    preflight,
    run_engine,
)
from provider_helper.values import helm_values

log = logging.getLogger("nvcf-mirror")
EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 1, 2, 130


def _read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("--password-stdin: pipe the password in, e.g. printf %s \"$PASSWORD\" | nvcf-mirror …")
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise InputError("--password-stdin: standard input was empty")
    return password


SELECTION_OPTIONS = [
    click.option("--manifest", "manifest", type=click.Path(dir_okay=False), help="Artifact manifest (default: the bundled NVCF v0.5 list)."),
    click.option("--group", "groups", multiple=True, metavar="NAME", help="Group to select (repeatable; default: the manifest's default groups)."),
    click.option("--all-groups", is_flag=True, help="Select every group."),
    click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]", help="Platform to copy (repeatable; default: linux/amd64)."),
    click.option("--all-platforms", is_flag=True, help="Copy whole indexes byte-identical, attestations included."),
    click.option("--source-registry", metavar="HOST[:PORT]", help="Replace nvcr.io in every source (a mirror, a proxy, tests)."),
    click.option("--set-version", "set_versions", multiple=True, metavar="NAME=VERSION", help="Pin an artifact the manifest lists without a version."),
]
TARGET_OPTIONS = [
    click.option("--target", metavar="REGISTRY[/PREFIX]", help="Where artifacts land, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster."),
    click.option("--target-type", type=click.Choice(["auto", "ecr", "generic"]), default="auto", show_default=True, help="auto: ECR when the host is an ECR registry host."),
    click.option("--aws-region", metavar="REGION", help="ECR region when the target host does not name it (default: AWS_REGION)."),
    click.option("--target-username", metavar="USER", help="Generic target: user name; the password comes from --password-stdin or NVCF_MIRROR_TARGET_PASSWORD."),
    click.option("--password-stdin", is_flag=True, help="Generic target: read the password from standard input."),
]
CONNECTION_OPTIONS = [
    click.option("--insecure-registry", "insecure_registries", multiple=True, metavar="HOST", help="HOST gets TLS without verification, or plain HTTP when it does not speak TLS (loopback hosts always use HTTP)."),
    click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="PEM bundle of a private CA for TLS to registries."),
    click.option("--retries", type=click.IntRange(1, 20), default=RetryPolicy.attempts, show_default=True,
                 help="Attempts per request or blob on connection errors, 429 and 5xx (exponential backoff with jitter, honouring Retry-After)."),
]


def run_config_options(*, selection: bool = True, target: str | None = "required") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the COMMON flags (or the selection or target half of them) and hand the command a RunConfig.

    ``target``: "required", "optional" (the command checks when it needs one), or None."""
    options = (SELECTION_OPTIONS if selection else []) + (TARGET_OPTIONS if target else []) + CONNECTION_OPTIONS

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            password = _read_password_stdin() if kwargs.pop("password_stdin", False) else None
            given = {k: kwargs.pop(k) for k in list(kwargs) if k in RunConfig.__dataclass_fields__}
            if given.get("target") is None:
                if target == "required":
                    raise click.UsageError("Missing option '--target'.")
                given.pop("target", None)
            config = RunConfig(**{"target": LAYOUT_TARGET.registry, **given}, target_password=password)
            return command(*args, config, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


common_options = run_config_options()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("-v", "--verbose", is_flag=True, help="Log every request decision (never credentials).")
@click.version_option(package_name="nvcf-mirror")
def cli(verbose: bool) -> None:
    """Mirror NVIDIA Cloud Functions artifacts from NGC into your registry."""
    _setup_logging(verbose)


def repository_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The settings ``--create-repos`` applies to new ECR repositories, gathered into one value."""
    options = [
        click.option("--scan-on-push/--no-scan-on-push", default=True, show_default=True, help="ECR image scanning on push."),
        click.option("--tag-mutability", type=click.Choice(["MUTABLE", "IMMUTABLE"]), default="MUTABLE", show_default=True, help="Whether tags of new repositories can be overwritten."),
        click.option("--encryption", type=click.Choice(["AES256", "KMS"]), default="AES256", show_default=True, help="Encryption of new repositories."),
        click.option("--kms-key", metavar="ARN", help="KMS key ARN; required with --encryption KMS."),
        click.option("--repo-tag", "repo_tags", multiple=True, metavar="KEY=VALUE", help="Resource tag on new repositories (repeatable)."),
        click.option("--lifecycle-policy", type=click.Path(dir_okay=False), help="JSON lifecycle policy file applied to new repositories."),
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["repo_settings"] = ecr.RepositorySettings.build(
            kwargs.pop("scan_on_push"), kwargs.pop("tag_mutability"), kwargs.pop("encryption"), kwargs.pop("kms_key"),
            kwargs.pop("repo_tags"), kwargs.pop("lifecycle_policy"),
        )
        return command(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def extract_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Limits on what one archive may unpack to (a layout .tar, a resource's .tar.gz), as one value."""
    defaults = ExtractLimits()
    options = [
        click.option("--max-extract-bytes", type=click.IntRange(1), default=defaults.max_bytes, show_default=True,
                      help="Refuse an archive that unpacks to more bytes than this."),
        click.option("--max-extract-members", type=click.IntRange(1), default=defaults.max_members, show_default=True,
                      help="Refuse an archive with more entries than this."),
        click.option("--max-extract-ratio", type=click.FloatRange(1), default=defaults.max_ratio, show_default=True,
                      help="Refuse a compressed archive that unpacks to more than this many times its size."),
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["limits"] = ExtractLimits(kwargs.pop("max_extract_bytes"), kwargs.pop("max_extract_members"), kwargs.pop("max_extract_ratio"))
        return command(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@cli.command()
@common_options
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--offline", is_flag=True, help="Make no network call: show targets without resolving source digests.")
@click.option("--jobs", type=click.IntRange(1, 64), default=EngineOptions.check_jobs, show_default=True, help="Sources resolved at once.")
def plan(common: RunConfig, output: str, offline: bool, jobs: int) -> None:
    """Show what would be copied where, with resolved source digests."""
    plan_jobs = common.jobs(resolve_versions=not offline)
    if offline:
        results = [planned(job) for job in plan_jobs]
    else:
        results, _ = run_engine(common, plan_jobs, EngineOptions(check_jobs=jobs, mode="resolve"), LogReporter(), check_target=False)
    if output == "json":
        click.echo(dumps(document(common.target, results, 0.0)), nl=False)
    else:
        print_table(results, ("group", "type", "source", "target", "platforms", "digest"))
    _exit_for(results)


def copy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What mirror and load share: the result file, dry run, repository creation and concurrency."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("--result-file", type=click.Path(dir_okay=False, writable=True), help="Write the result document (JSON) here."),
        click.option("--dry-run", is_flag=True, help="Resolve and compare with the target; push nothing."),
        click.option("--create-repos", is_flag=True, help="Create missing ECR repositories {prefix}/{name} first, with the settings below."),
        repository_options,
        click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True, help="Artifacts copied at once."),
        click.option("--blob-jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Blob transfers at once, across all artifacts."),
        click.option("--check-jobs", type=click.IntRange(1, 64), default=EngineOptions.check_jobs, show_default=True,
                     help="Artifacts compared with the target at once (one small request to each side)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@common_options
@copy_options
def mirror(common: RunConfig, result_file: str | None, dry_run: bool, create_repos: bool, repo_settings: ecr.RepositorySettings,
           jobs: int, blob_jobs: int, check_jobs: int) -> None:
    """Copy the selected artifacts to the target."""
    _discard_stale(result_file)
    plan_jobs = common.jobs()
    _copy_to_target(common, plan_jobs, result_file, dry_run, create_repos, repo_settings, EngineOptions(jobs, blob_jobs, check_jobs))


@cli.command()
@run_config_options(selection=False)
@click.option("--from", "from_path", required=True, type=click.Path(exists=True), help="A layout written by 'nvcf-mirror save' (directory or .tar).")
@copy_options
@extract_options
def load(common: RunConfig, from_path: str, result_file: str | None, dry_run: bool, create_repos: bool,
         repo_settings: ecr.RepositorySettings, jobs: int, blob_jobs: int, check_jobs: int, limits: ExtractLimits) -> None:
    """Push a saved layout to the target, with no access to the source (air-gapped installs)."""
    _discard_stale(result_file)
    layout = LayoutSource(Path(from_path), limits)
    try:
        plan_jobs = layout.jobs(parse_target(common.target))
        _copy_to_target(common, plan_jobs, result_file, dry_run, create_repos, repo_settings, EngineOptions(jobs, blob_jobs, check_jobs),
                        payload_for=layout.payload)
    finally:
        layout.close()


def _copy_to_target(common: RunConfig, plan_jobs: list[Job], result_file: str | None, dry_run: bool, create_repos: bool,
                    repo_settings: ecr.RepositorySettings, options: EngineOptions, payload_for: PayloadFor | None = None) -> None:
    """mirror and load: create repositories if asked, copy, write the result document, exit 0 or 1."""
    if create_repos:
        repositories = common.access.repositories()
        names = sorted({j.target.repository for j in plan_jobs if not j.skip_reason})
        if dry_run:
            missing = set(names) - set(repositories.under(common.access.target.prefix)) if common.access.target.prefix else set(names)
            for name in sorted(missing):
                log.info("would create ECR repository %s", name)
        else:
            repositories.ensure(names, repo_settings)
    options = dataclasses.replace(options, mode="dry-run" if dry_run else "copy")
    with reporting(len(plan_jobs), live=not dry_run) as reporter:
        results, seconds = run_engine(common, plan_jobs, options, reporter, check_target=True, payload_for=payload_for)
    doc = document(common.target, results, seconds, helm_values(parse_target(common.target)))
    if result_file:
        atomic_write(Path(result_file), dumps(doc))
    _log_summary(doc, results)
    _exit_for(results)


def _discard_stale(result_file: str | None) -> None:
    """A result file left by an earlier run must not look current when this one stops early."""
    if result_file:
        Path(result_file).unlink(missing_ok=True)


def _log_summary(doc: dict[str, Any], results: list[ArtifactResult]) -> None:
    summary = doc["summary"]
    log.info(
        "%d copied, %d present, %d failed, %d skipped; %d bytes in %.1fs",
        summary["copied"], summary["present"], summary["failed"], sum(r.status == "skipped" for r in results),
        summary["bytes_copied"], summary["seconds"],
    )


@cli.command()
@run_config_options(target=None)
@click.option("--to", "to_path", required=True, type=click.Path(), help="Directory to write the OCI layout to, or a file ending in .tar.")
@click.option("--jobs", type=click.IntRange(1, 64), default=4, show_default=True, help="Artifacts fetched at once.")
@click.option("--blob-jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Blob downloads at once.")
def save(common: RunConfig, to_path: str, jobs: int, blob_jobs: int) -> None:
    """Write the selected artifacts into an OCI image layout to carry into an air-gapped site.

    Resumable: blobs already in the layout are not fetched again."""
    path = Path(to_path)
    as_tar = path.suffix == ".tar"
    staging = path.with_name(path.name + ".partial") if as_tar else path
    plan_jobs = common.jobs()
    with writer_lock(staging):
        with reporting(len(plan_jobs)) as reporter:
            results, seconds = run_engine(common, plan_jobs, EngineOptions(jobs, blob_jobs), reporter, check_target=False,
                                          target=LayoutTarget(staging))
        write_lock(staging, results, plan_jobs)
        if as_tar and not any(r.status == "failed" for r in results):
            pack(staging, path)
    _log_summary(document(str(path), results, seconds), results)
    _exit_for(results)


@cli.command()
@common_options
@click.option("--result-file", type=click.Path(dir_okay=False, writable=True), help="Write the verification as a result document.")
@click.option("--from", "from_path", type=click.Path(exists=True), help="Expect what a saved layout's lock file lists (no source access).")
@extract_options
def verify(common: RunConfig, result_file: str | None, from_path: str | None, limits: ExtractLimits) -> None:
    """Check the target has every artifact, with the right digest and platform."""
    _discard_stale(result_file)
    registries = common.registries()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.callback(registries.close)
        target = registries.get(parse_target(common.target).registry)
        if from_path:
            layout = LayoutSource(Path(from_path), limits)
            stack.callback(layout.close)
            plan_jobs = layout.jobs(parse_target(common.target))
            preflight(registries, [], target.host)
            results = verify_all(plan_jobs, functools.partial(layout.payload, check_blobs=False), target)
        else:
            plan_jobs = common.jobs()
            preflight(registries, plan_jobs, target.host)
            payload_for = stack.enter_context(payloads(common, registries))
            results = verify_all(plan_jobs, payload_for, target)
    for r in results:
        if r.status == "failed":
            log.error("mismatch %s: %s", r.target, r.error)
        elif r.status == "present":
            log.info("ok       %s@%s%s", r.target, r.digest, f" ({r.note})" if r.note else "")
    if result_file:
        atomic_write(Path(result_file), dumps(document(common.target, results, time.monotonic() - started)))
    failed = sum(r.status == "failed" for r in results)
    log.info("%d verified, %d failed", sum(r.status == "present" for r in results), failed)
    _exit_for(results)


@cli.command()
@common_options
def values(common: RunConfig) -> None:
    """Print the Helmfile environment values that point nvcf-self-managed-stack at the mirror."""
    common.jobs(resolve_versions=False)  # the same checks as every command: a bad manifest or flag is still exit 2
    click.echo(helm_values(parse_target(common.target)), nl=False)


@cli.command()
@run_config_options(target="optional")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def outdated(common: RunConfig, output: str) -> None:
    """List each selected artifact's pinned version and the newer versions its source publishes.

    A source that cannot be asked is reported on its artifact's line; the command still exits 0."""
    plan_jobs = [job for job in common.jobs() if job.artifact.type in ("image", "chart", "resource")]
    with common.published_versions() as available, ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda job: _outdated_row(job.artifact, available), plan_jobs))
    if output == "json":
        click.echo(json.dumps({"version": 1, "artifacts": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("type", "name", "pinned", "newer", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        shown = row["newer"][-5:]
        newer_text = ("… " if len(row["newer"]) > 5 else "") + ", ".join(shown) if shown else "up to date"
        table.add_row(row["type"], row["name"], row["version"] or "(none)", newer_text, redact(row["error"] or ""))
    Console().print(table)


def _outdated_row(artifact: Artifact, available: PublishedVersions) -> dict[str, Any]:
    current = artifact.version_text
    row: dict[str, Any] = {"key": artifact.key, "type": artifact.type, "name": artifact.name, "version": current, "newer": [], "error": None}
    try:
        published = available.versions(artifact)
    except (RegistryError, InputError, OSError) as exc:
        row["error"] = redact(str(exc))
        return row
    row["newer"] = versions.newer(current, published) if current else versions.newer("0.0.0-0", published)
    return row


@cli.command()
@common_options
def doctor(common: RunConfig) -> None:
    """Check AWS identity, NGC access, target push rights and platform choice; one line each."""
    plan_jobs = common.jobs()
    registries = common.registries()
    try:
        given = bool(common.platforms) or common.all_platforms
        checks = run_checks(common.access, registries, plan_jobs, common.selected_platforms(), platform_given=given)
    finally:
        registries.close()
    for check in checks:
        click.echo(check.line())
    if any(c.status == "failed" for c in checks):
        sys.exit(EXIT_FAILED)


@cli.group("manifest")
def manifest_group() -> None:
    """Check, list and import artifact manifests."""


@manifest_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def manifest_validate(file: str) -> None:
    """Check FILE against the schema and the rules a schema cannot express."""
    loaded = manifest_mod.load(file)
    click.echo(f"{file}: ok ({len(loaded.artifacts)} artifacts in {len(loaded.groups)} groups)")


@manifest_group.command("show")
@click.option("--manifest", "file", type=click.Path(dir_okay=False), help="Manifest (default: the bundled NVCF v0.5 list).")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="Only these groups (repeatable).")
def manifest_show(file: str | None, groups: tuple[str, ...]) -> None:
    """List groups, whether each is selected by default, and their artifacts."""
    loaded = manifest_mod.load(file)
    names = {g.name for g in loaded.groups}
    for name in groups:
        if name not in names:
            raise InputError(f"--group {name}: no such group in {loaded.origin} (groups: {', '.join(sorted(names))})")
    for group in loaded.groups:
        if groups and group.name not in groups:
            continue
        members = [a for a in loaded.artifacts if a.group == group.name]
        marker = "default" if group.default else "opt-in"
        click.echo(f"{group.name} ({marker}, {len(members)} artifacts): {group.description}")
        for a in members:
            pin = "  [needs a version]" if a.needs_version else ""
            click.echo(f"  {a.type:8} {a.name}:{a.tag or '?'}  <- {a.source_text}{pin}")


@manifest_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--group", default="imported", show_default=True, help="Group the imported artifacts belong to.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of standard output.")
def manifest_import(file: str, group: str, output: str | None) -> None:
    """Turn a skopeo sync YAML file or a list of references (one per line) into a manifest."""
    doc = importers.from_text(Path(file).read_text(), file, group)
    text = yaml.safe_dump(doc, sort_keys=False)
    manifest_mod.parse(text, output or "<imported>")  # what we write must load
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text, nl=False)


@cli.group("resources")
def resources_group() -> None:
    """NGC resources (nvcf-base, nvcf-self-managed-stack, nvcf-cli): download, push, pull."""


def _resource_jobs(common: RunConfig) -> list[Job]:
    """Resources of the selected groups; with no --group, every resource of the manifest."""
    if not common.groups and not common.all_groups:
        common = dataclasses.replace(common, all_groups=True)
    jobs = [j for j in common.jobs() if j.artifact.type == "resource"]
    for job in jobs:
        if job.artifact.needs_version:
            raise InputError(f"{job.artifact.name} has no version: pin it with --set-version {job.artifact.name}=VERSION")
    if not jobs:
        raise InputError("no NGC resources selected (they are in the deployment-resources group of the bundled manifest)")
    return jobs


@resources_group.command("download")
@run_config_options(target="optional")
@click.option("--dest", required=True, type=click.Path(file_okay=False), help="Folder to download into (DEST/<name>_v<version>/…).")
@click.option("--extract", is_flag=True, help="Unpack each .tar.gz/.tgz/.tar into DEST/<name>/ (refusing unsafe archives).")
@click.option("--push", is_flag=True, help="Also store each version as an OCI artifact at --target: {prefix}/{name}:{version}.")
@extract_options
def resources_download(common: RunConfig, dest: str, extract: bool, push: bool, limits: ExtractLimits) -> None:
    """Download the selected NGC resource versions through the NGC API."""
    jobs = _resource_jobs(common)
    if push and common.target == LAYOUT_TARGET.registry:
        raise InputError("--push needs --target REGISTRY[/PREFIX]")
    client = ngc_api.client_from_env(os.environ, verifying_context(common.ca_file))
    root = Path(dest)
    try:
        for job in jobs:
            ref = job.artifact.resource
            assert ref is not None
            files = client.download(ref, root)
            log.info("downloaded %s: %d files into %s", ref, len(files), root / ngc_api.version_dir(ref))
            if extract:
                _extract(files, root / ngc_api.version_dir(ref), root / ref.name, limits)
    finally:
        client.close()
    if push:
        folders = {j.key: root / ngc_api.version_dir(j.artifact.resource) for j in jobs if j.artifact.resource}
        payload_for = lambda job: ngc.resource_payload(job.artifact.resource, folders[job.key])  # noqa: E731
        _copy_to_target(common, jobs, None, False, False, ecr.RepositorySettings(), EngineOptions(), payload_for=payload_for)


def _extract(files: list[Path], folder: Path, into: Path, limits: ExtractLimits) -> None:
    for archive in files:
        if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
            target = into / archive.parent.relative_to(folder)
            try:
                safe_extract(archive, target, limits)
            except ArchiveError as exc:
                raise RegistryError(f"refusing to extract: {exc}") from None
            log.info("extracted %s into %s", archive.name, target)


@resources_group.command("pull")
@run_config_options(target="required")
@click.option("--dest", required=True, type=click.Path(file_okay=False), help="Folder to write DEST/<name>_v<version>/… into.")
@click.option("--extract", is_flag=True, help="Unpack each .tar.gz/.tgz/.tar into DEST/<name>/ (refusing unsafe archives).")
@extract_options
def resources_pull(common: RunConfig, dest: str, extract: bool, limits: ExtractLimits) -> None:
    """Fetch resource versions that 'resources download --push' stored in your registry."""
    jobs = _resource_jobs(common)
    registries = common.registries()
    try:
        client = registries.get(parse_target(common.target).registry)
        preflight(registries, [], client.host)
        for job in jobs:
            ref = job.artifact.resource
            assert ref is not None
            files = ngc.pull(client, job, Path(dest))
            log.info("pulled %s: %d files into %s", job.target, len(files), Path(dest) / ngc_api.version_dir(ref))
            if extract:
                _extract(files, Path(dest) / ngc_api.version_dir(ref), Path(dest) / ref.name, limits)
    finally:
        registries.close()


@cli.group("ecr")
def ecr_group() -> None:
    """Amazon ECR housekeeping."""


@ecr_group.command("delete-repos")
@click.option("--prefix", required=True, help="Delete repositories named PREFIX/… (e.g. your cluster name); nothing else.")
@click.option("--region", "region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], required=True, help="AWS region (default: AWS_REGION).")
@click.option("--registry-id", metavar="ACCOUNT", help="Registry (account) id, if not the caller's.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def ecr_delete_repos(prefix: str, region: str, registry_id: str | None, dry_run: bool, yes: bool) -> None:
    """Delete every ECR repository under a prefix, images included (the troubleshooting clean-up)."""
    prefix = prefix.strip().rstrip("/")
    if not prefix:
        raise InputError("--prefix must not be empty: that would name every repository")
    repositories = ecr.Repositories(ecr.client("ecr", region), registry_id)
    names = repositories.under(prefix)
    if not names:
        click.echo(f"no repositories under {prefix}/ in {region}")
        return
    for name in names:
        click.echo(name)
    if dry_run:
        click.echo(f"{len(names)} repositories would be deleted (dry run)")
        return
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise InputError("refusing to delete without confirmation: pass --yes when not on a terminal")
        click.confirm(f"delete these {len(names)} repositories and all their images?", abort=True)
    repositories.delete(names, prefix)
    click.echo(f"deleted {len(names)} repositories under {prefix}/")


@ecr_group.command("import-commands")
@run_config_options()
@click.option("--module-address", default="module.nvcf_mirror", show_default=True, help="Address of the nvcf-mirror module in your root module.")
def ecr_import_commands(common: RunConfig, module_address: str) -> None:
    """Print a `terraform import` line for each of the module's repositories that already exists.

    For an upgrade from the module version that created repositories outside Terraform state:
    only the repositories of the selected artifacts are listed, never others under the prefix."""
    if not re.fullmatch(r"module\.[A-Za-z0-9_-]+(\[[^\]]+\])?(\.module\.[A-Za-z0-9_-]+(\[[^\]]+\])?)*", module_address):
        raise InputError(f"--module-address {module_address!r}: expected e.g. module.nvcf_mirror")
    wanted = sorted({job.target.repository for job in common.jobs() if not job.skip_reason})
    existing = set(common.access.repositories().existing(wanted))
    for name in wanted:
        if name in existing:
            click.echo(f"terraform import '{module_address}.aws_ecr_repository.this[\"{name}\"]' {name}")


def _exit_for(results: list[ArtifactResult]) -> None:
    if any(r.status == "failed" for r in results):
        sys.exit(EXIT_FAILED)


def _setup_logging(verbose: bool) -> None:
    if on_terminal():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=stderr_console(), show_time=False, show_path=False, markup=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("nvcf-mirror: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    level = logging.DEBUG if verbose else logging.INFO
    for name in ("nvcf-mirror", "provider_helper"):
        logging.getLogger(name).setLevel(level)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn errors into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="nvcf-mirror", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("nvcf-mirror: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        _fail(exc.format_message())
        sys.exit(EXIT_INPUT)
    except InputError as exc:
        _fail(str(exc))
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        click.echo("nvcf-mirror: interrupted; no tag was written for unfinished artifacts", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (RegistryError, OSError) as exc:
        _fail(str(exc))
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # a bug: one line for the user, the traceback with -v
        log.debug("internal error", exc_info=True)
        click.echo(redact(f"nvcf-mirror: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)"), err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(0)


def _fail(message: str) -> None:
    """The one error line: never more than one line, never a secret."""
    click.echo(f"nvcf-mirror: error: {' '.join(redact(message).split())}", err=True)
