"""NGC resources (nvcf-base, nvcf-self-managed-stack, nvcf-cli) through the NGC REST API.

A personal key (``nvapi-…``) is the Bearer token; a legacy key is exchanged for one at the
authn service first. File lists are paged (0- or 1-based depending on the client: pages are
deduplicated by path); files come from pre-signed URLs, to which no Authorization is sent.
Files land as the ngc CLI writes them: ``DEST/<name>_v<version>/<path>``.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx

from provider_helper.errors import DigestMismatchError, InputError, RegistryError
from provider_helper.manifest import ResourceRef
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Resolved, Selection
from provider_helper.mirror.sources import Payload
from provider_helper.registry.client import error_from
from provider_helper.registry.credentials import ngc_key
from provider_helper.registry.oci import (
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    digest_of,
    file_digest,
    hasher_for,
)
from provider_helper.registry.retry import RetryPolicy, call_with_retries

API_URL = "https://api.ngc.nvidia.com"
AUTHN_URL = "https://authn.nvidia.com"
API_URL_ENV, AUTHN_URL_ENV = "NVCF_MIRROR_NGC_API_URL", "NVCF_MIRROR_NGC_AUTHN_URL"  # a proxy, or the tests' stand-in
SOURCE = "org.opencontainers.image.source"
ARTIFACT_TYPE = "application/vnd.nvidia.ngc.resource.v1"
EMPTY_CONFIG = b"{}"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
FILE_LAYER = "application/octet-stream"
TITLE = "org.opencontainers.image.title"
PAGE_SIZE = 100
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ResourceFile:
    path: str
    url: str | None  # pre-signed; None when the listing gave the path only


def version_dir(ref: ResourceRef) -> str:
    """The folder the ngc CLI downloads a version into."""
    return f"{ref.name}_v{ref.version}"


def safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path.lstrip("/"))
    if not relative.parts or ".." in relative.parts or path.startswith("/"):
        raise RegistryError(f"NGC listed a file path outside the resource: {path!r}")
    return relative


class NgcClient:
    def __init__(self, key: str | None, api_url: str = API_URL, authn_url: str = AUTHN_URL, retry: RetryPolicy | None = None,
                 verify: Any = True) -> None:
        if not key:
            raise InputError("NGC_API_KEY is not set: NGC resources need a key of the nvcf-onprem organisation")
        self._key = key
        self.api_url = api_url.rstrip("/")
        self.authn_url = authn_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._api = httpx.Client(timeout=httpx.Timeout(30.0, read=300.0), verify=verify, headers={"User-Agent": "nvcf-mirror"})
        self._storage = httpx.Client(timeout=httpx.Timeout(30.0, read=300.0), verify=verify, follow_redirects=True)
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._api.close()
        self._storage.close()

    def _token(self, ref: ResourceRef) -> str:
        if self._key.startswith("nvapi-"):
            return self._key
        scope_key = f"{ref.org}/{ref.team or ''}"
        with self._lock:
            if scope_key not in self._tokens:
                scopes = [f"group/ngc:{ref.org}"] + ([f"group/ngc:{ref.org}/{ref.team}"] if ref.team else [])
                query: dict[str, str | list[str]] = {"service": "ngc", "scope": scopes}
                response = self._api.get(f"{self.authn_url}/token", params=query, auth=("$oauthtoken", self._key))
                if response.status_code in (401, 403):
                    raise InputError(f"authentication failed for {httpx.URL(self.authn_url).host} (the NGC key was rejected)")
                if response.status_code != 200:
                    raise error_from(response, "NGC token exchange", httpx.URL(self.authn_url).host)
                self._tokens[scope_key] = response.json()["token"]
            return self._tokens[scope_key]

    def _base(self, ref: ResourceRef) -> str:
        team = f"/team/{ref.team}" if ref.team else ""
        return f"{self.api_url}/v2/org/{ref.org}{team}/resources/{ref.name}/versions/{ref.version}"

    def _get_json(self, ref: ResourceRef, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            response = self._api.get(url, params=params, headers={"Authorization": f"Bearer {self._token(ref)}"})
            if response.status_code == 401:
                raise InputError(f"authentication failed for {httpx.URL(self.api_url).host} (NGC rejected the key for {ref})")
            if response.status_code != 200:
                raise error_from(response, f"NGC {ref}", httpx.URL(self.api_url).host)
            return response.json()

        return call_with_retries(attempt, self.retry, f"NGC {ref}")

    def version(self, ref: ResourceRef) -> dict[str, Any]:
        return self._get_json(ref, self._base(ref))

    def files(self, ref: ResourceRef) -> list[ResourceFile]:
        """Every file of the version, in listing order, each path once."""
        found: dict[str, ResourceFile] = {}
        page, total = 0, 1
        while page <= total:
            try:
                body = self._get_json(ref, f"{self._base(ref)}/files", {"page-size": PAGE_SIZE, "page-number": page})
            except RegistryError:
                if page in (0, total):  # the numbering we guessed wrong at one end
                    page += 1
                    continue
                raise
            total = int((body.get("paginationInfo") or {}).get("totalPages") or 1)
            urls, paths = body.get("urls") or [], body.get("filepath") or []
            for i, path in enumerate(paths):
                found.setdefault(path, ResourceFile(path, urls[i] if i < len(urls) and urls[i] else None))
            page += 1
        return list(found.values())

    def download(self, ref: ResourceRef, dest: Path) -> list[Path]:
        """Fetch every file into ``dest/<name>_v<version>/``; sizes checked against the version's total."""
        folder = dest / version_dir(ref)
        written = [self._download_file(ref, f, folder) for f in self.files(ref)]
        expected = (self.version(ref).get("recipeVersion") or {}).get("totalSizeInBytes")
        actual = sum(p.stat().st_size for p in written)
        if expected is not None and int(expected) != actual:
            raise DigestMismatchError(f"{ref}: downloaded {actual} bytes, NGC lists {expected}")
        return written

    def _download_file(self, ref: ResourceRef, file: ResourceFile, folder: Path) -> Path:
        relative = safe_relative(file.path)
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)

        def attempt() -> None:
            if file.url:
                request = self._storage.build_request("GET", file.url)  # signed: no Authorization
            else:
                url = f"{self._base(ref)}/files/{quote(str(relative))}"
                request = self._api.build_request("GET", url, headers={"Authorization": f"Bearer {self._token(ref)}"})
            client = self._storage if file.url else self._api
            response = client.send(request, stream=True, follow_redirects=False)
            hops = 0
            while response.is_redirect and hops < 5:  # to storage: never carry the token along
                location = response.headers["location"]
                response.close()
                response = self._storage.send(self._storage.build_request("GET", response.url.join(location)), stream=True)
                hops += 1
            try:
                if response.status_code != 200:
                    response.read()
                    raise error_from(response, f"download {file.path}", response.url.host)
                length = response.headers.get("content-length")
                temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
                size = 0
                with open(temp, "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        size += len(chunk)
                if length is not None and int(length) != size:
                    temp.unlink()
                    raise httpx.ReadError(f"{file.path}: got {size} of {length} bytes")
                os.replace(temp, path)
            finally:
                response.close()

        call_with_retries(attempt, self.retry, f"download {file.path}")
        return path


def resource_payload(ref: ResourceRef, folder: Path) -> Payload:
    """A downloaded version as an OCI artifact: one layer per file, titled with its path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise RegistryError(f"{folder}: no files to push for {ref}")
    layers, paths = [], {}
    for path in files:
        digest, size = file_digest(path)
        paths[digest] = path
        layers.append({"mediaType": FILE_LAYER, "digest": digest, "size": size, "annotations": {TITLE: path.relative_to(folder).as_posix()}})
    config = {"mediaType": EMPTY_CONFIG_TYPE, "digest": digest_of(EMPTY_CONFIG), "size": len(EMPTY_CONFIG), "data": "e30="}
    body = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE, "config": config, "layers": layers,
        "annotations": {"org.opencontainers.image.version": str(ref.version), SOURCE: f"ngc:{ref}"},
    }
    manifest = Manifest.from_bytes(json.dumps(body, separators=(",", ":")).encode(), OCI_MANIFEST)

    @contextmanager
    def open_blob(blob: Descriptor) -> Iterator[Iterator[bytes]]:
        if blob.digest == config["digest"]:
            yield iter((EMPTY_CONFIG,))
            return
        with open(paths[blob.digest], "rb") as handle:
            yield iter(lambda: handle.read(CHUNK), b"")

    return Payload.ready(Selection(manifest, [], []), open_blob)


def client_from_env(env: Mapping[str, str], verify: Any = True) -> NgcClient:
    return NgcClient(ngc_key(env), env.get(API_URL_ENV, API_URL), env.get(AUTHN_URL_ENV, AUTHN_URL), verify=verify)


class ResourcePayloads:
    """NGC resources for the copy engine (mirror, save): downloaded only when the target lacks them,
    into ``scratch``, and recognised at the target by the source they were pushed from."""

    def __init__(self, env: Mapping[str, str], scratch: Path, verify: Any = True) -> None:
        self.env, self.scratch, self.verify = env, scratch, verify

    @functools.cached_property
    def client(self) -> NgcClient:
        return client_from_env(self.env, self.verify)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()

    def payload(self, job: Job) -> Payload:
        ref = job.artifact.resource
        assert ref is not None
        built: list[Payload] = []

        def materialize() -> Selection:
            self.client.download(ref, self.scratch)
            built.append(resource_payload(ref, self.scratch / version_dir(ref)))
            return built[0].resolved.materialize()

        def matches(manifest: Manifest) -> bool:
            return manifest.body.get("artifactType") == ARTIFACT_TYPE and (manifest.body.get("annotations") or {}).get(SOURCE) == f"ngc:{ref}"

        return Payload(Resolved(None, [], None, materialize, matches), lambda blob: built[0].open_blob(blob))


def pull(client: Any, job: Job, dest: Path) -> list[Path]:
    """``resources pull``: a pushed resource version back into ``dest/<name>_v<version>/``, verified."""
    ref = job.artifact.resource
    assert ref is not None
    manifest = client.get_manifest(job.target.repository, job.target.reference)
    if manifest.body.get("artifactType") != ARTIFACT_TYPE:
        raise RegistryError(f"{job.target} is not an NGC resource pushed by nvcf-mirror")
    folder = dest / version_dir(ref)
    written = []
    for layer in manifest.blobs[1:]:
        relative = safe_relative(layer.annotations.get(TITLE, ""))
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        hasher, size = hasher_for(layer.digest), 0
        with client.open_blob(job.target.repository, layer.digest) as chunks, open(temp, "wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if f"{hasher.name}:{hasher.hexdigest()}" != layer.digest or size != layer.size:
            temp.unlink()
            raise DigestMismatchError(f"{job.target}: {relative} does not match its digest")
        os.replace(temp, path)
        written.append(path)
    return written
