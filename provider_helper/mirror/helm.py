"""Classic Helm repositories: fetch ``index.yaml``, resolve a version, download and verify the
chart, and build the OCI artifact exactly as ``helm push`` writes it.

The manifest is deterministic (``created`` comes from the repository index), so a re-run finds
the chart already present instead of pushing a new digest every time.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import threading
from typing import Any
from urllib.parse import urljoin

import httpx
import yaml

from provider_helper import http, yamlload
from provider_helper.archives import ArchiveError, read_member
from provider_helper.errors import DigestMismatchError, RegistryError
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Selection
from provider_helper.mirror.sources import Payload, in_memory
from provider_helper.origin import OriginPolicy, authority, origin
from provider_helper.redact import redact_url
from provider_helper.registry.client import bounded, error_from
from provider_helper.registry.credentials import CredentialStore
from provider_helper.registry.oci import OCI_MANIFEST, Manifest, digest_of
from provider_helper.registry.retry import RetryPolicy, call_with_retries

HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_PROV = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_CHART_BYTES = 64 * 1024 * 1024  # Helm's own limit for a chart archive is smaller
MAX_CHART_YAML = 1024 * 1024
# Helm's chart.Metadata fields, in the order its JSON encoder writes them.
METADATA_FIELDS = ("name", "home", "sources", "version", "description", "keywords", "maintainers", "icon", "apiVersion",
                   "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion", "dependencies", "type")


class HelmRepositories:
    """Reads classic repositories; each ``index.yaml`` is fetched once per run."""

    def __init__(self, credentials: CredentialStore, retry: RetryPolicy | None = None, verify: Any = True,
                 policy: OriginPolicy | None = None) -> None:
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.policy = policy or OriginPolicy()
        self._verify = verify
        self._indexes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def http(self) -> httpx.Client:
        """Created on first use: most runs select no classic chart."""
        return http.client(follow_redirects=True, verify=self._verify)

    def close(self) -> None:
        """Close the connections; indexes already read stay cached, and a later request reconnects."""
        client = self.__dict__.pop("http", None)
        if client is not None:
            client.close()

    def payload(self, job: Job) -> Payload:
        artifact = job.artifact
        assert artifact.repo and artifact.chart and artifact.version
        entry = self._entry(artifact.repo, artifact.chart, artifact.version)
        urls = entry.get("urls") or []
        if not urls:
            raise RegistryError(f"{artifact.repo}: {artifact.chart} {artifact.version} lists no download URL")
        url = urljoin(artifact.repo + "/", urls[0])
        archive = self._get(url, MAX_CHART_BYTES, owner=artifact.repo)
        if entry.get("digest"):
            actual = hashlib.sha256(archive).hexdigest()
            if actual != entry["digest"]:
                raise DigestMismatchError(f"{url}: sha256 {actual} does not match the index's {entry['digest']}")
        provenance = self._get(url + ".prov", MAX_CHART_YAML, owner=artifact.repo, missing_ok=True)
        try:
            raw = read_member(io.BytesIO(archive), url.rsplit("/", 1)[-1], f"{artifact.chart}/Chart.yaml", MAX_CHART_YAML)
        except (ArchiveError, OSError, EOFError) as exc:
            raise RegistryError(f"{url}: {exc}") from None
        if raw is None:
            raise RegistryError(f"{url}: no {artifact.chart}/Chart.yaml in the archive")
        metadata = yamlload.safe_load(raw) or {}
        if metadata.get("name") != artifact.chart:
            raise RegistryError(f"{url}: Chart.yaml names {metadata.get('name')!r}, expected {artifact.chart!r}")
        return chart_payload(metadata, archive, provenance, str(entry.get("created") or ""))

    def versions(self, repo: str, chart: str) -> list[str]:
        """Every version of ``chart`` the repository's index lists."""
        return [str(e.get("version")) for e in (self._index(repo).get("entries") or {}).get(chart) or [] if isinstance(e, dict)]

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
                text = self._get(f"{repo}/index.yaml", MAX_INDEX_BYTES, owner=repo)
                try:
                    index = yamlload.safe_load(text)
                except yaml.YAMLError as exc:
                    problem = getattr(exc, "problem", None) or "not valid YAML"
                    raise RegistryError(f"{redact_url(repo)}/index.yaml: {problem}") from None
                if not isinstance(index, dict):
                    raise RegistryError(f"{repo}/index.yaml is not a Helm repository index")
                self._indexes[repo] = index
            return self._indexes[repo]

    def _get(self, url: str, max_bytes: int, *, owner: str, missing_ok: bool = False) -> bytes:
        """GET anonymously first (public NGC repositories refuse keys they do not expect), then with
        the host's credential if the server asks for one, ``url`` is on the exact origin of the
        repository ``owner`` (scheme, host and port: an index naming an ``http://`` chart URL gets no
        key sent in the clear) and the origin policy lets a credential go there. The body is refused
        past ``max_bytes`` while it streams. ``missing_ok``: 404 (and 401/403, which public
        repositories answer for what they do not have) gives empty bytes."""
        parts = httpx.URL(url)
        host = authority(parts)
        shown = redact_url(url.split("?")[0])
        credentials_allowed = origin(parts) == origin(httpx.URL(owner)) and self.policy.may_send_credentials(parts)

        def fetch(auth: tuple[str, str] | None) -> httpx.Response:
            request = self.http.build_request("GET", url)
            return bounded(self.http.send(request, stream=True, auth=auth or httpx.USE_CLIENT_DEFAULT), max_bytes, f"GET {shown}")

        def attempt() -> bytes:
            response = fetch(None)
            if response.status_code == 401 and not (parts.username or parts.password) and credentials_allowed:
                credential = self.credentials.for_host(host).get()
                if credential is not None:
                    response = fetch((credential.username, credential.password))
            if missing_ok and response.status_code in (401, 403, 404):
                return b""
            if response.status_code != 200:
                raise error_from(response, f"GET {shown}", host)
            return response.content

        return call_with_retries(attempt, self.retry, f"GET {shown}")


def chart_payload(metadata: dict[str, Any], archive: bytes, provenance: bytes, created: str) -> Payload:
    """The config, layers and manifest ``helm push`` writes for this chart."""
    config = json.dumps({k: metadata[k] for k in METADATA_FIELDS if metadata.get(k) not in (None, "", [], {})}, separators=(",", ":")).encode()
    blobs: dict[str, bytes] = {}

    def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
        digest = digest_of(data)
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    config_descriptor = descriptor(HELM_CONFIG, config)
    layers = [descriptor(HELM_CHART, archive)] + ([descriptor(HELM_PROV, provenance)] if provenance else [])
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_descriptor,
        "layers": layers,
        "annotations": oci_annotations(metadata, created),
    }
    manifest = Manifest.from_bytes(json.dumps(body, separators=(",", ":")).encode(), OCI_MANIFEST)
    return Payload.ready(Selection(manifest, [], []), in_memory(blobs))


def oci_annotations(metadata: dict[str, Any], created: str) -> dict[str, str]:
    """As Helm's generateOCIAnnotations: standard keys from Chart.yaml, then the chart's own annotations."""
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
    authors = ", ".join(f"{m.get('name', '')} ({m['email']})" if m.get("email") else str(m.get("name", "")) for m in maintainers)
    standard["org.opencontainers.image.authors"] = authors
    annotations.update({k: str(v) for k, v in standard.items() if v})
    for key, value in (metadata.get("annotations") or {}).items():
        if key not in ("org.opencontainers.image.version", "org.opencontainers.image.title"):
            annotations[str(key)] = str(value)
    return annotations
