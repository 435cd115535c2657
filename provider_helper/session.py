"""A run's settings (``RunConfig``) and what they open: the plan's jobs, the registries, the Helm
repositories, the NGC API, the versions the sources publish.

manifest → plan (``RunConfig.jobs``) → payloads and registries → copy engine → results; the use cases
that run those stages, one module each, are in ``provider_helper.usecases``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from provider_helper import manifest as manifest_mod
from provider_helper import targets
from provider_helper.artifacts import Artifact, ArtifactType
from provider_helper.content.pool import RegistryPool
from provider_helper.errors import InputError, SettingError
from provider_helper.fetch import Fetcher
from provider_helper.mirror import versions
from provider_helper.mirror.helm import HelmRepositories
from provider_helper.mirror.layout import LAYOUT_TARGET
from provider_helper.mirror.plan import Job, PlanOptions, make_plan
from provider_helper.ngc_api import NgcClient, client_from_env
from provider_helper.oci.reference import Platform, parse_platform, parse_target
from provider_helper.origin import OriginPolicy
from provider_helper.registry.credentials import CredentialStore
from provider_helper.registry.tls import verifying_context
from provider_helper.retry import RetryPolicy
from provider_helper.selection import one_per_target
from provider_helper.sourcemap import SourceMap
from provider_helper.values import helm_values
from provider_helper.wording import setting

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
        pins = pins_of(self.set_versions)
        artifacts = loaded.select(self.groups, all_groups=self.all_groups, versions=pins, excludes=self.excludes)
        # each chosen entry as the manifest pinned it, in the same order: whose flavour its NAME=latest or
        # NAME:TAG=latest keeps (the entry's own, not the name's first entry's or the last pin's)
        as_listed = loaded.select(self.groups, all_groups=self.all_groups, excludes=self.excludes)
        if types is not None:
            artifacts = [a for a in artifacts if a.type in types]
            as_listed = [a for a in as_listed if a.type in types]
        latest = [key for key, version in pins.items() if version == versions.LATEST]  # NAME or NAME:TAG
        if resolve_versions and (latest or any(a.is_classic_chart and a.version for a in artifacts)):
            before = [a.version_text for a in as_listed]
            with self.published_versions() as available:
                artifacts = versions.Resolver(available).resolve(artifacts, latest, before)
            artifacts = one_per_target(artifacts)  # two entries resolved to one newest version
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


def pins_of(set_versions: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The ``--set-version`` pins by ``NAME`` or ``NAME:TAG``. One entry pinned twice (the same key, or a name
    pinned whole and by one of its tags) is refused: which pin won would depend on the order of the flags."""
    pins: dict[str, str] = {}
    for text in set_versions:
        key, version = split_pin(text)
        name = key.partition(":")[0]
        # the same key twice, or the name pinned whole beside one of its NAME:TAG pins
        clash = next(
            (k for k in pins if k == key or (k.partition(":")[0] == name and (":" in k) != (":" in key))), None
        )
        if clash is not None:
            raise SettingError(
                "set_versions",
                key,
                f"{name} is pinned twice ({clash}={pins[clash]} and {key}={version})",
                value=version,
            )
        pins[key] = version
    return pins


def split_pin(text: str) -> tuple[str, str]:
    name, sep, version = text.partition("=")
    if not sep or not name or not version:
        raise SettingError("set_versions", text, "expected NAME=VERSION")
    return name, version
