"""Classic Helm repositories: fetch ``index.yaml``, resolve a version, download and verify the
chart, and build the OCI artifact exactly as ``helm push`` writes it.

The manifest is deterministic (``created`` comes from the repository index, in whole seconds, else a
fixed time: ``chartjson.created_annotation``), so a re-run finds the chart already present instead of
pushing a new digest every time, and two mirrors of one chart give one digest.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import yaml

from provider_helper import yamlload
from provider_helper.archive_members import ArchiveError
from provider_helper.archives import read_member
from provider_helper.content.built import BuiltArtifact
from provider_helper.errors import DeniedError, NotFoundError, RegistryError
from provider_helper.fetch import Fetcher
from provider_helper.mirror.chartjson import (
    chart_config,
    clean_metadata,
    created_annotation,
    go_json,
    with_requirements,
)
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Selection
from provider_helper.mirror.sources import Payload
from provider_helper.oci.digests import digest_of, read_verified
from provider_helper.oci.manifest import OCI_MANIFEST, Manifest
from provider_helper.redact import redact_url

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_PROV = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 64 * 1024 * 1024  # Helm's own limit for a chart archive is smaller
MAX_CHART_YAML = 1024 * 1024


class HelmRepositories:
    """Reads classic repositories through ``fetcher``; each ``index.yaml`` is fetched once per run.
    ``mapped`` gives the URL a repository's (or a chart's) URL is read at (``--source-map`` on its host)."""

    def __init__(self, fetcher: Fetcher, mapped: Callable[[str], str] = str) -> None:
        self.fetcher = fetcher
        self.mapped = mapped
        self._indexes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connections; indexes already read stay cached, and a later request reconnects."""
        self.fetcher.close()

    def payload(self, job: Job) -> Payload:
        artifact = job.artifact
        assert artifact.repo and artifact.chart and artifact.version
        entry = self._entry(artifact.repo, artifact.chart, artifact.version)
        urls = entry.get("urls") or []
        if not urls:
            raise RegistryError(f"{artifact.repo}: {artifact.chart} {artifact.version} lists no download URL")
        repo = self.mapped(artifact.repo)
        url = urljoin(repo + "/", self.mapped(str(urls[0])))  # an absolute chart URL on a mapped host too
        archive = self.fetcher.get(url, MAX_CHART_BYTES, owner=repo)
        if entry.get("digest"):
            listed = str(entry["digest"])[:64]
            read_verified(
                [archive], f"sha256:{listed}", MAX_CHART_BYTES, f"{redact_url(url)} (the index gives sha256 {listed})"
            )
        try:
            provenance = self.fetcher.get(url + ".prov", MAX_CHART_YAML, owner=repo)
        except (NotFoundError, DeniedError):  # public repositories answer 401 or 403 for what they do not have
            provenance = b""
        try:
            origin = url.rsplit("/", 1)[-1]
            raw = read_member(io.BytesIO(archive), origin, f"{artifact.chart}/Chart.yaml", MAX_CHART_YAML)
            requirements = read_member(
                io.BytesIO(archive), origin, f"{artifact.chart}/requirements.yaml", MAX_CHART_YAML
            )
        except (ArchiveError, OSError, EOFError) as exc:
            raise RegistryError(f"{url}: {exc}") from None
        if raw is None:
            raise RegistryError(f"{url}: no {artifact.chart}/Chart.yaml in the archive")
        try:
            required = yamlload.safe_load(requirements) if requirements else None
            metadata = with_requirements(yamlload.safe_load(raw) or {}, required)
        except yaml.YAMLError:
            raise RegistryError(f"{url}: {artifact.chart}/Chart.yaml or requirements.yaml is not valid YAML") from None
        if not isinstance(metadata, dict):
            raise RegistryError(f"{url}: {artifact.chart}/Chart.yaml is not a mapping")
        if metadata.get("name") != artifact.chart:
            raise RegistryError(f"{url}: Chart.yaml names {metadata.get('name')!r}, expected {artifact.chart!r}")
        return chart_payload(metadata, archive, provenance, created_annotation(entry.get("created")))

    def versions(self, repo: str, chart: str) -> list[str]:
        """Every version of ``chart`` the repository's index lists."""
        return [
            str(e.get("version"))
            for e in (self._index(repo).get("entries") or {}).get(chart) or []
            if isinstance(e, dict)
        ]

    def _entry(self, repo: str, chart: str, version: str) -> dict[str, Any]:
        index = self._index(repo)
        entries = (index.get("entries") or {}).get(chart)
        if not entries:
            raise RegistryError(f"{repo}/index.yaml has no chart {chart!r}")
        for candidate in (version, version.removeprefix("v"), f"v{version}"):
            for entry in entries:
                if isinstance(entry, dict) and str(entry.get("version")) == candidate:
                    found: dict[str, Any] = entry
                    return found
        recent = ", ".join(str(e.get("version")) for e in entries[:5])
        raise RegistryError(f"{repo}/index.yaml has no {chart} version {version} (recent: {recent})")

    def _index(self, repo: str) -> dict[str, Any]:
        with self._lock:
            if repo not in self._indexes:
                read_at = self.mapped(repo)
                text = self.fetcher.get(f"{read_at}/index.yaml", MAX_INDEX_BYTES, owner=read_at)
                try:
                    index = yamlload.safe_load(text)
                except yaml.YAMLError as exc:
                    problem = getattr(exc, "problem", None) or "not valid YAML"
                    raise RegistryError(f"{redact_url(repo)}/index.yaml: {problem}") from None
                if not isinstance(index, dict):
                    raise RegistryError(f"{repo}/index.yaml is not a Helm repository index")
                self._indexes[repo] = index
            return self._indexes[repo]


def chart_payload(metadata: dict[str, Any], archive: bytes, provenance: bytes, created: str) -> Payload:
    """The config, layers and manifest ``helm push`` writes for this chart, byte for byte but ``created``."""
    config = chart_config(metadata)
    blobs: dict[str, bytes] = {}

    def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
        digest = digest_of(data)
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    config_descriptor = descriptor(HELM_CONFIG, config)
    layers = [descriptor(HELM_CHART, archive)] + ([descriptor(HELM_PROV, provenance)] if provenance else [])
    annotations = oci_annotations(clean_metadata(metadata), created)
    body = {  # as Helm writes it: no top-level mediaType, layers by digest, annotation keys sorted
        "schemaVersion": 2,
        "config": config_descriptor,
        "layers": sorted(layers, key=lambda layer: str(layer["digest"])),
        "annotations": {key: annotations[key] for key in sorted(annotations)},
    }
    manifest = Manifest.from_bytes(go_json(body), OCI_MANIFEST)
    return Payload.ready(Selection(manifest, [], []), BuiltArtifact(manifest, blobs))


def oci_annotations(metadata: dict[str, Any], created: str) -> dict[str, str]:
    """As Helm's generateOCIAnnotations: standard keys from the (cleaned) metadata, then the chart's own
    annotations but title and version; a value of only whitespace is left out."""
    annotations: dict[str, str] = {}
    standard = {
        "org.opencontainers.image.description": metadata.get("description"),
        "org.opencontainers.image.title": metadata.get("name"),
        "org.opencontainers.image.version": str(metadata.get("version", "")),
        "org.opencontainers.image.url": metadata.get("home"),
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.source": (metadata.get("sources") or [None])[0],
    }
    maintainers = metadata.get("maintainers") or []
    authors = ", ".join(
        f"{m.get('name', '')} ({m['email']})" if m.get("email") else str(m.get("name", "")) for m in maintainers
    )
    standard["org.opencontainers.image.authors"] = authors
    annotations.update({k: str(v) for k, v in standard.items() if v and str(v).strip()})
    for key, value in (metadata.get("annotations") or {}).items():
        if key not in ("org.opencontainers.image.version", "org.opencontainers.image.title"):
            annotations[str(key)] = str(value)
    return annotations
