"""A run's configuration and the stages it wires together, shared by the CLI and the Terraform adapter.

manifest → plan (``RunConfig.jobs``) → payloads and registries → copy engine → results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provider_helper import manifest as manifest_mod
from provider_helper import targets
from provider_helper.artifacts import Artifact, ArtifactType
from provider_helper.aws import ecr
from provider_helper.content.pool import RegistryPool
from provider_helper.content.registry import RegistryClient
from provider_helper.content.store import Store
from provider_helper.errors import (
    AnonymousRefusedError,
    AuthenticationError,
    DeniedError,
    InputError,
    RegistryError,
    SettingError,
)
from provider_helper.fetch import Fetcher
from provider_helper.mirror import sources, versions
from provider_helper.mirror.bundles import left_out_at_target
from provider_helper.mirror.engine import CopyEngine, EngineOptions, Reporter
from provider_helper.mirror.helm import HelmRepositories
from provider_helper.mirror.layout import LAYOUT_TARGET, LayoutSource
from provider_helper.mirror.locations import BlobLocations
from provider_helper.mirror.ngc import ResourcePayloads
from provider_helper.mirror.plan import Job, PlanOptions, make_plan
from provider_helper.mirror.prune import (
    DistributionRemover,
    EcrRemover,
    PrunePlan,
    Remover,
    plan_prune,
    repositories_to_prune,
)
from provider_helper.mirror.sources import PayloadFor
from provider_helper.ngc_api import NgcClient, client_from_env
from provider_helper.oci.reference import Platform, Reference, parse_platform, parse_target
from provider_helper.origin import OriginPolicy
from provider_helper.progress import reporting
from provider_helper.registry.challenge import repository_scope
from provider_helper.registry.credentials import CredentialStore
from provider_helper.registry.tls import verifying_context
from provider_helper.results import ArtifactResult
from provider_helper.retry import RetryPolicy
from provider_helper.selection import check_targets
from provider_helper.sourcemap import SourceMap
from provider_helper.threads import worker_pool
from provider_helper.values import helm_values
from provider_helper.wording import plural, setting

log = logging.getLogger("nvcf-mirror")
HELM_NGC = "helm.ngc.nvidia.com"  # NGC_API_KEY is offered there when a private repository asks


@dataclass
class RunConfig:
    """What a run works on: the COMMON flags of the CLI, or the query of the Terraform adapter."""

    target: str  # REGISTRY[/PREFIX]; "" when the command was given none (save, outdated, resources download)
    manifest: str | None = None
    release: str | None = None  # a bundled NVCF release (v0.5, v1.0, …); excludes ``manifest``
    groups: tuple[str, ...] = ()
    all_groups: bool = False
    platforms: tuple[str, ...] = ()
    all_platforms: bool = False
    source_registry: str | None = None
    source_map: tuple[str, ...] = ()  # UPSTREAM=MIRROR items (--source-map)
    target_type: str = "auto"
    insecure_registries: tuple[str, ...] = ()
    set_versions: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()  # artifact names left out of the selection (--exclude)
    ca_file: str | None = None
    aws_region: str | None = None
    target_username: str | None = None
    target_password: str | None = field(default=None, repr=False)
    retries: int = RetryPolicy.attempts  # attempts per request or blob, with backoff
    signatures: bool = True  # carry signatures, attestations, SBOMs and referrers with the images

    def jobs(self, *, resolve_versions: bool = True, types: frozenset[ArtifactType] | None = None) -> list[Job]:
        """manifest → select → versions → plan. ``resolve_versions`` False: no network (``plan --offline``,
        ``values``); ``NAME=latest`` pins then stay unresolved. ``types``: only artifacts of these types
        (``resources`` commands), chosen before any version is looked up."""
        if self.all_groups and self.groups:
            raise InputError(f"{setting('groups')} and {setting('all_groups')} exclude each other")
        loaded = manifest_mod.load(self.manifest, self.release)
        pins = dict(split_pin(v) for v in self.set_versions)
        artifacts = loaded.select(self.groups, all_groups=self.all_groups, versions=pins, excludes=self.excludes)
        if types is not None:
            artifacts = [a for a in artifacts if a.type in types]
        latest = [key.partition(":")[0] for key, version in pins.items() if version == versions.LATEST]
        if resolve_versions and (latest or any(a.is_classic_chart and a.version for a in artifacts)):
            before = {a.name: a.version_text for a in reversed(loaded.artifacts)}  # the manifest's pins, a name's first
            before |= {
                key.partition(":")[0]: key.partition(":")[2]
                for key, version in pins.items()
                if version == versions.LATEST and ":" in key
            }  # NAME:TAG=latest keeps TAG's flavour
            with self.published_versions() as available:
                artifacts = versions.Resolver(available).resolve(artifacts, latest, before)
            check_targets(artifacts)  # two entries resolved to one newest version
        options = PlanOptions(
            target=parse_target(self.target) if self.target else LAYOUT_TARGET,
            platforms=self.selected_platforms(),
            sources=self.sources,
        )
        return make_plan(artifacts, options)

    @functools.cached_property
    def sources(self) -> SourceMap:
        """Where each upstream is read: ``--source-map`` items and ``--source-registry`` (``nvcr.io=HOST``)."""
        return SourceMap.parse(self.source_map, self.source_registry)

    def helm_values(self, jobs: list[Job]) -> str:
        """The Helmfile values for this run's release and target, with the per-image overrides ``jobs`` need."""
        images = [
            (j.artifact.image.name, j.target)
            for j in jobs
            if j.artifact.type == "image" and j.artifact.image and not j.skip_reason
        ]
        return helm_values(parse_target(self.target), self.release, images)

    def ngc_client(self) -> NgcClient:
        """The NGC API with the key from the environment and this run's retries and trust store."""
        return client_from_env(os.environ, verifying_context(self.ca_file), RetryPolicy(attempts=self.retries))

    @contextlib.contextmanager
    def published_versions(self) -> Iterator[PublishedVersions]:
        """What the sources publish, for ``latest`` and ``outdated``."""
        registries = self.source_registries()
        available = PublishedVersions(registries, self.helm, self.sources, self.ngc_client)
        try:
            yield available
        finally:
            available.close()

    @functools.cached_property
    def helm(self) -> HelmRepositories:
        """Classic Helm repositories, shared by version resolution and the copy: each index.yaml is read once a run."""
        helm_mirror = self.sources.mirror(HELM_NGC)
        ngc_hosts = frozenset({HELM_NGC} | ({helm_mirror.host} if helm_mirror else set()))
        return HelmRepositories(
            Fetcher(
                CredentialStore(env=os.environ, ngc_hosts=ngc_hosts),
                RetryPolicy(attempts=self.retries),
                verify=verifying_context(self.ca_file),
                policy=OriginPolicy(frozenset(self.insecure_registries)),
            ),
            mapped=self.sources.url,
        )

    def selected_platforms(self) -> tuple[Platform, ...] | None:
        """None means every platform (``--all-platforms``)."""
        if self.all_platforms and self.platforms:
            raise InputError(f"{setting('platforms')} and {setting('all_platforms')} exclude each other")
        return None if self.all_platforms else tuple(parse_platform(p) for p in (self.platforms or ("linux/amd64",)))

    @functools.cached_property
    def access(self) -> targets.TargetAccess:
        return targets.resolve(
            self.target, self.target_type, self.aws_region, self.target_username, self.target_password, os.environ
        )

    def source_registries(self) -> RegistryPool:
        """Registries to read from: NGC_API_KEY for nvcr.io (or its stand-in), auth files for the rest (a
        mirror's own entry, else its upstream's)."""
        upstreams = {m.host: upstream for upstream, m in self.sources.mirrors.items()}
        store = CredentialStore(env=os.environ, ngc_hosts=self.sources.ngc_hosts, upstreams=upstreams)
        return RegistryPool(
            credentials=store,
            insecure=frozenset(self.insecure_registries),
            ca_file=self.ca_file,
            retry=RetryPolicy(attempts=self.retries),
        )

    def registries(self) -> RegistryPool:
        """Sources, and the target with its own credentials (ECR token, --target-username) and limits."""
        pool = self.source_registries()
        store = pool.credentials
        host = self.access.target.registry
        credentials = self.access.credentials()
        if credentials is not None:
            store.explicit[host] = credentials
        limiter = self.access.manifest_put_limiter()
        if limiter is not None:
            pool.manifest_put_limits[host] = limiter
        return pool


@dataclass
class PublishedVersions:
    """The versions an artifact's source publishes: registry tags, a Helm index, the NGC API."""

    registries: RegistryPool
    helm: HelmRepositories
    sources: SourceMap
    connect_ngc: Callable[[], NgcClient]
    _ngc: NgcClient | None = None

    def versions(self, artifact: Artifact) -> list[str]:
        if artifact.image is not None:
            ref = self.sources.source(artifact.image)
            return self.registries.get(ref.registry).tags(ref.repository)
        if artifact.is_classic_chart and artifact.repo and artifact.chart:
            return self.helm.versions(artifact.repo, artifact.chart)
        if artifact.resource is not None:
            return self.ngc().versions(artifact.resource)
        return []

    def latest(self, artifact: Artifact, like: str | None = None) -> str:
        """``like``: the version the manifest pinned, whose flavour (``-nonroot``) the newest keeps."""
        if artifact.resource is not None:
            named = self.ngc().latest_version(artifact.resource)
            complete = self.versions(artifact)  # NGC may name a version still uploading as the latest
            return named if named in complete else versions.latest_from(lambda: complete, artifact.name)
        return versions.latest_from(lambda: self.versions(artifact), artifact.name, like=like)

    def ngc(self) -> NgcClient:
        if self._ngc is None:
            self._ngc = self.connect_ngc()
        return self._ngc

    def close(self) -> None:
        self.registries.close()
        self.helm.close()
        if self._ngc is not None:
            self._ngc.close()


def split_pin(text: str) -> tuple[str, str]:
    name, sep, version = text.partition("=")
    if not sep or not name or not version:
        raise SettingError("set_versions", text, "expected NAME=VERSION")
    return name, version


def run_engine(
    config: RunConfig,
    jobs: list[Job],
    options: EngineOptions,
    reporter: Reporter,
    *,
    check_target: bool,
    target: Store | None = None,
    payload_for: PayloadFor | None = None,
) -> tuple[list[ArtifactResult], float]:
    """Preflight every registry, then copy (or resolve) every job; returns results and seconds.

    ``target`` replaces the target registry (an OCI layout for ``save``); ``payload_for`` the
    sources (a layout for ``load``)."""
    registries = config.registries() if target is None else config.source_registries()
    started = time.monotonic()
    try:
        target_client: Store = target if target is not None else registries.get(config.access.target.registry)
        target_host = config.access.target.registry if check_target and target is None else None
        unreachable = preflight(registries, jobs if payload_for is None else [], target_host)
        left, failed = _without_unreachable(jobs, unreachable)
        with contextlib.ExitStack() as stack:
            chosen = payload_for or stack.enter_context(payloads(config, registries))
            options = dataclasses.replace(options, signatures=options.signatures and config.signatures)
            # a dry run reads it too: where a copy would mount from
            if target is None and options.mode in ("copy", "dry-run"):
                locations = BlobLocations(config.access.target.registry)
                stack.callback(locations.close)
            else:
                locations = None
            results = CopyEngine(chosen, target_client, options, reporter, locations).run(left)
    finally:
        registries.close()
    return _merge(jobs, results, failed), time.monotonic() - started


def _without_unreachable(
    jobs: list[Job], unreachable: dict[str, RegistryError]
) -> tuple[list[Job], dict[int, ArtifactResult]]:
    """The jobs left to run, and (by position) those of a source that preflight found unreachable, failed
    at once with its one reason, said here once, not once per artifact after its retries."""
    left: list[Job] = []
    failed: dict[int, ArtifactResult] = {}
    for i, job in enumerate(jobs):
        reason = unreachable.get(job.source.registry) if job.source is not None and not job.skip_reason else None
        if reason is None:
            left.append(job)
        else:
            failed[i] = result = job.result()
            result.status, result.error = "failed", str(reason)
    for host, error in unreachable.items():
        count = sum(job.source is not None and job.source.registry == host for job in (jobs[i] for i in failed))
        log.error("%s: %s not tried", error, plural(count, "artifact is", "artifacts are"))
    return left, failed


def _merge(jobs: list[Job], ran: list[ArtifactResult], failed: dict[int, ArtifactResult]) -> list[ArtifactResult]:
    """Results in the jobs' order: the engine's, and those failed at preflight."""
    rest = iter(ran)
    return [failed[i] if i in failed else next(rest) for i in range(len(jobs))]


def copy_to_target(
    config: RunConfig,
    jobs: list[Job],
    options: EngineOptions,
    *,
    create_repos: bool,
    repo_settings: ecr.RepositorySettings,
    payload_for: PayloadFor | None = None,
) -> tuple[list[ArtifactResult], float]:
    """What ``mirror``, ``load`` and Terraform's apply step do: create the target's repositories if asked,
    then copy every job (``options.mode`` dry-run: compare, push nothing). Returns results and seconds."""
    dry_run = options.mode == "dry-run"
    if create_repos:
        repositories = config.access.repositories()
        names = sorted({j.target.repository for j in jobs if not j.skip_reason})
        if dry_run:
            prefix = config.access.target.prefix
            missing = set(names) - set(repositories.under(prefix)) if prefix else set(names)
            for name in sorted(missing):
                log.info("would create ECR repository %s", name)
        else:
            repositories.ensure(names, repo_settings)
    with reporting(len(jobs), live=not dry_run) as reporter:
        return run_engine(config, jobs, options, reporter, check_target=True, payload_for=payload_for)


@contextlib.contextmanager
def payloads(config: RunConfig, registries: RegistryPool) -> Iterator[PayloadFor]:
    """Where each job's content comes from: the source registry, a classic Helm repository, or the NGC API."""
    helm = config.helm
    with contextlib.ExitStack() as cleanup:
        made: list[Path] = []
        lock = threading.Lock()

        def scratch() -> Path:
            """Made when a resource is first downloaded: most runs (and a killed one) leave no folder."""
            with lock:
                if not made:
                    folder = tempfile.TemporaryDirectory(prefix="nvcf-mirror-resources-")
                    made.append(Path(cleanup.enter_context(folder)))
                return made[0]

        resources = ResourcePayloads(config.ngc_client, scratch)
        try:
            yield sources.dispatch(sources.from_registry(registries.get), helm.payload, resources.payload)
        finally:
            helm.close()
            resources.close()


def preflight(registries: RegistryPool, jobs: list[Job], target: str | None) -> dict[str, RegistryError]:
    """Check every registry answers and accepts our credentials before anything is pushed (all at once).

    Stops the run before any artifact is tried when a source asks for credentials we do not hold, or
    refuses the ones we hold (exit 2, naming the credential and, for NGC, the organisation), or the
    target cannot be reached (exit 1). An unreachable source only fails its own artifacts: the others
    may come from elsewhere. Returns those sources, by host, with the reason (the caller says it once)."""
    reads: dict[str, list[tuple[Reference, Reference]]] = {}
    for job in jobs:
        if job.source is not None and not job.skip_reason:
            reads.setdefault(job.source.registry, []).append((job.source, job.artifact.image or job.source))
    unreachable: dict[str, RegistryError] = {}
    with worker_pool(len(reads) + 1, "ping") as pool:
        sources = {host: pool.submit(_check_source, registries, host, refs) for host, refs in sorted(reads.items())}
        checked_target = pool.submit(_check_target, registries, target) if target else None
        for host, future in sources.items():
            refused = future.result()
            if isinstance(refused, RegistryError):
                unreachable[host] = refused
            elif refused:
                raise registries.credentials.missing(host, refused)
        answer = checked_target.result() if checked_target is not None else True
    if isinstance(answer, RegistryError):
        raise answer
    if answer is False and target:
        raise registries.credentials.missing(target)
    return unreachable


def _organisations(refs: list[tuple[Reference, Reference]]) -> list[str]:
    """The first path part of each upstream repository: the NGC organisation of an nvcr.io source."""
    return sorted({upstream.repository.split("/", 1)[0] for _, upstream in refs})


def _check_source(
    registries: RegistryPool, host: str, refs: list[tuple[Reference, Reference]]
) -> list[str] | RegistryError:
    """The organisations (first path part of the upstream repository) that refuse us for want of
    credentials; the error when the registry cannot be reached. A token registry checks credentials by
    granting one token for every repository the run reads. Without a credential, one repository of each
    organisation is asked for too, since a token service may grant an anonymous token that opens nothing;
    a token service that refuses anonymous tokens outright refuses them all."""
    try:
        client = registries.get(host)
        if not client.ping(sorted({repository_scope(ref.repository) for ref, _ in refs})):
            return _organisations(refs)
        if client.auth.credentials.get() is not None:
            return []
        first_of_each = {upstream.repository.split("/", 1)[0]: ref for ref, upstream in reversed(refs)}
        return [org for org, ref in sorted(first_of_each.items()) if _refused(client, ref)]
    except AnonymousRefusedError:
        return _organisations(refs)
    except AuthenticationError:
        raise registries.credentials.rejected(host, _organisations(refs)) from None
    except RegistryError as exc:
        return exc


def _refused(client: RegistryClient, ref: Reference) -> bool:
    try:
        client.head_manifest(ref.repository, ref.reference)
    except DeniedError:
        return True
    except RegistryError:
        pass  # it answered: whatever else is wrong shows when the artifact is copied
    return False


def _check_target(registries: RegistryPool, host: str) -> bool | RegistryError:
    """True/False: our credentials are accepted or none are held; the error when it cannot be reached."""
    try:
        return registries.get(host).ping()
    except AuthenticationError:
        raise
    except RegistryError as exc:
        return exc


def check_left_out(config: RunConfig, layout: LayoutSource, registries: RegistryPool) -> None:
    """Before a differential bundle is loaded: the target must hold everything the bundle leaves out (in
    the repository that needs it, or a blob in another repository of the prefix, which the copy then
    mounts). Otherwise one line naming the base bundle, exit 2, nothing pushed. Then the layout reads
    the manifests it leaves out from the target."""
    assert layout.base is not None
    target = parse_target(config.target)
    client = registries.get(target.registry)
    missing = left_out_at_target(layout.lock.get("artifacts") or [], layout.has, client, target.prefix)
    if missing.items:
        raise InputError(
            f"{config.target} lacks {len(missing.items)} of the manifests and blobs this differential bundle leaves out "
            f"(first: {missing.items[0]}): load its base first, the bundle written from {layout.base.get('from')} "
            f"(lock {layout.base['lock'][:19]})"
        )
    if missing.mounts:
        locations = BlobLocations(target.registry)
        try:
            for digest, _, holder in missing.mounts:
                locations.remember(digest, holder)  # the copy mounts it from there
        finally:
            locations.close()
    layout.read_left_out = client.get_manifest


def planned(job: Job) -> ArtifactResult:
    result = job.result()
    result.platforms = [str(p) for p in job.platforms or ()]
    if job.skip_reason:
        result.status, result.error = "skipped", job.skip_reason
    return result


def plan_pruning(config: RunConfig, registries: RegistryPool) -> tuple[PrunePlan, Remover]:
    """``prune`` and Terraform's ``prune_superseded``: what the selection no longer lists under the
    target's prefix, and what removes it there. A repository whose artifact is skipped (no version
    pinned) is not pruned: the selection lists no tag of it."""
    jobs = config.jobs()
    target = parse_target(config.target)
    wanted: dict[str, set[str]] = {}
    for job in jobs:
        wanted.setdefault(job.target.repository, set()).add(job.target.reference)
    for job in jobs:
        if job.skip_reason and wanted.pop(job.target.repository, None) is not None:
            log.warning("not pruning %s: %s", job.target.repository, job.skip_reason)
    repos = repositories_to_prune(wanted, target.prefix)
    preflight(registries, [], target.registry)
    client = registries.get(target.registry)
    access = config.access
    remover: Remover = (
        EcrRemover(access.ecr_client, access.account)
        if access.kind == "ecr"
        else DistributionRemover(client, target.registry)
    )
    return plan_prune(client, repos, can_untag=remover.can_untag), remover
