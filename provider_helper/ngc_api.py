"""The NGC REST API for resources, as NVIDIA's own client (``ngcsdk``) speaks it.

- A personal key (``nvapi-…``) is the Bearer token. A legacy key is exchanged at the authn
  service for a token with ``expires_in``; it is renewed before it runs out and once after a 401.
  Without a key, requests go anonymously (the public catalog, ``nvidia/...``); only a refusal asks
  for ``NGC_API_KEY``, naming the organisation it must be a key of.
- A version is downloaded only when its ``status`` is ``UPLOAD_COMPLETE``.
- The file list (``…/versions/{version}/files``, ``recipeFiles``, paged 0-based) gives paths and
  sizes; pre-signed URLs come from ``…/{name}/{version}/files`` pages (``filepath[]``/``urls[]``),
  or one file at a time with ``?path=``. Storage gets no Authorization; an interrupted file
  resumes with a Range request.
- 412 means the licence terms must be accepted in the NGC catalog first.

Files land as the ngc CLI writes them: ``DEST/<name>_v<version>/<path>``.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from provider_helper import http
from provider_helper.artifacts import ResourceRef
from provider_helper.errors import DigestMismatchError, InputError, LicenceError, NotFoundError, RegistryError
from provider_helper.fsutil import own_folder, private_temp
from provider_helper.http import MAX_ANSWER_BYTES, Page, bounded, error_from, moving, pages
from provider_helper.registry.credentials import ngc_key
from provider_helper.retry import RetryPolicy, call_with_retries
from provider_helper.tokens import Token, TokenCache
from provider_helper.transport import named_by

API_URL = "https://api.ngc.nvidia.com"
AUTHN_URL = "https://authn.nvidia.com"
API_URL_ENV, AUTHN_URL_ENV = "NVCF_MIRROR_NGC_API_URL", "NVCF_MIRROR_NGC_AUTHN_URL"  # a proxy, or the tests' stand-in
CATALOG_URL = "https://catalog.ngc.nvidia.com"
READY = "UPLOAD_COMPLETE"
PAGE_SIZE = 100
MAX_JSON_BYTES = 16 * 1024 * 1024
RENEW_MARGIN = 300.0  # seconds before expiry a legacy-key token is renewed, as ngcsdk does

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceFile:
    path: str
    size: int


def version_dir(ref: ResourceRef) -> str:
    """The folder the ngc CLI downloads a version into."""
    return f"{ref.name}_v{ref.version}"


def safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if not relative.parts or ".." in relative.parts or relative.is_absolute() or "\\" in path or "\x00" in path:
        raise RegistryError(f"NGC listed a file path outside the resource: {path!r}")
    return relative


class NgcClient:
    def __init__(
        self,
        key: str | None,
        api_url: str = API_URL,
        authn_url: str = AUTHN_URL,
        retry: RetryPolicy | None = None,
        verify: Any = True,
    ) -> None:
        """``key`` None: anonymous requests, for the public catalog."""
        self._key = key or ""
        self.api_url = api_url.rstrip("/")
        self.authn_url = authn_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._http = http.client(verify=verify)
        self._tokens: TokenCache[str] = TokenCache()
        self._exchanging = threading.Lock()  # one exchange at a time: concurrent artifacts of an org share its token

    def close(self) -> None:
        self._http.close()

    # -- authentication ------------------------------------------------------------------------

    def _bearer(self, ref: ResourceRef, *, renew: bool = False) -> str | None:
        if not self._key:
            return None
        if self._key.startswith("nvapi-"):
            return self._key
        scope = f"{ref.org}/{ref.team or ''}"
        with self._exchanging:
            token = None if renew else self._tokens.get(scope)
            if token is None:
                token = self._exchange(ref)
                self._tokens.put(scope, token)
            return token.value

    def _exchange(self, ref: ResourceRef) -> Token:
        scopes = [f"group/ngc:{ref.org}"] + ([f"group/ngc:{ref.org}/{ref.team}"] if ref.team else [])
        host = httpx.URL(self.authn_url).host
        response = bounded(
            self._http.send(
                self._http.build_request("GET", f"{self.authn_url}/token", params={"service": "ngc", "scope": scopes}),
                stream=True,
                auth=("$oauthtoken", self._key),
            ),
            MAX_JSON_BYTES,
            f"NGC token from {host}",
        )
        if response.status_code in (401, 403):
            raise self._refused(host, ref)
        if response.status_code != 200:
            raise error_from(response, "NGC token exchange", host)
        body = _json(response, f"NGC token from {host}")
        value = body.get("token")
        if not isinstance(value, str) or not value:
            raise RegistryError(f"the NGC token service {host} answered without a token")
        try:
            lifetime = float(body.get("expires_in") or 600)
        except (TypeError, ValueError):
            lifetime = math.nan
        if not math.isfinite(lifetime) or lifetime <= 0:
            raise RegistryError(
                f"the NGC token service {host} answered with a token lifetime that is not a positive number"
            )
        return Token.lasting(value, lifetime, RENEW_MARGIN)

    # -- the API ---------------------------------------------------------------------------------

    def _base(self, ref: ResourceRef) -> str:
        team = f"/team/{ref.team}" if ref.team else ""
        return f"{self.api_url}/v2/org/{ref.org}{team}/resources/{ref.name}"

    def _get_json(self, ref: ResourceRef, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._get_sized(ref, url, params)[0]

    def _get_sized(
        self, ref: ResourceRef, url: str, params: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], int]:
        """The JSON object at ``url`` and the bytes it took (a listing counts them across its pages)."""
        host = httpx.URL(self.api_url).host

        def attempt() -> tuple[dict[str, Any], int]:
            response = self._api_get(ref, url, params, renew=False)
            if response.status_code == 401 and self._key and not self._key.startswith("nvapi-"):
                response = self._api_get(ref, url, params, renew=True)  # a token the service expired early
            if response.status_code == 401 or (response.status_code == 403 and not self._key):
                raise self._refused(host, ref)
            if response.status_code == 412:
                raise LicenceError(
                    f"accept the licence terms for {ref} in the NGC catalog ({self.catalog_url(ref)}), then run again"
                )
            if response.status_code == 404:
                raise NotFoundError(f"NGC has no {ref} ({host} answered 404)", status=404)
            if response.status_code != 200:
                raise error_from(response, f"NGC {ref}", host)
            return _json(response, f"NGC {ref}"), len(response.content)

        return call_with_retries(attempt, self.retry, f"NGC {ref}")

    def _refused(self, host: str, ref: ResourceRef) -> InputError:
        """A refusal in words a user acts on: which variable, and the organisation the key must be of."""
        if not self._key:
            return InputError(
                f"{host} refused an anonymous request for {ref} and NGC_API_KEY is not set: export NGC_API_KEY with "
                f"an API key of the NGC organisation {ref.org}"
            )
        return InputError(
            f"authentication failed for {host}: NGC refused NGC_API_KEY for {ref}: it must be an API key of the NGC "
            f"organisation {ref.org}"
        )

    def _api_get(self, ref: ResourceRef, url: str, params: dict[str, Any] | None, *, renew: bool) -> httpx.Response:
        bearer = self._bearer(ref, renew=renew)
        request = self._http.build_request(
            "GET", url, params=params, headers={"Authorization": f"Bearer {bearer}"} if bearer else {}
        )
        return bounded(self._http.send(request, stream=True), MAX_JSON_BYTES, f"NGC {ref}")

    @staticmethod
    def catalog_url(ref: ResourceRef) -> str:
        team = f"/{ref.team}" if ref.team else ""
        return f"{CATALOG_URL}/orgs/{ref.org}{f'/teams{team}' if team else ''}/resources/{ref.name}"

    def latest_version(self, ref: ResourceRef) -> str:
        """The version NGC names as the latest (what the ngc CLI downloads without a version)."""
        latest = (self._get_json(ref, self._base(ref)).get("recipe") or {}).get("latestVersionIdStr")
        if not isinstance(latest, str) or not latest:
            raise RegistryError(f"NGC names no latest version of {ref}")
        return latest

    def versions(self, ref: ResourceRef) -> list[str]:
        """Every published version id of the resource (those whose upload is complete)."""
        found: list[str] = []
        for body in self._pages(ref, f"{self._base(ref)}/versions", "recipeVersions"):
            for version in body.get("recipeVersions") or []:
                if isinstance(version, dict) and version.get("versionId") and version.get("status", READY) == READY:
                    found.append(str(version["versionId"]))
        return found

    def version(self, ref: ResourceRef) -> dict[str, Any]:
        """The version's metadata; refused unless its upload is complete."""
        meta = self._get_json(ref, f"{self._base(ref)}/versions/{ref.version}").get("recipeVersion") or {}
        status = meta.get("status")
        if status != READY:
            raise RegistryError(
                f"{ref} is not ready for download: NGC reports status {status or 'unknown'} (expected {READY})"
            )
        return meta

    def files(self, ref: ResourceRef) -> list[ResourceFile]:
        """Every file of the version with its size, each path once."""
        found: dict[str, ResourceFile] = {}
        for body in self._pages(ref, f"{self._base(ref)}/versions/{ref.version}/files", "recipeFiles"):
            for entry in body.get("recipeFiles") or []:
                try:
                    file = ResourceFile(str(entry["path"]), int(entry["sizeInBytes"]))
                except (KeyError, TypeError, ValueError):
                    raise RegistryError(f"NGC listed a malformed file entry for {ref}") from None
                found.setdefault(file.path, file)
        return list(found.values())

    def signed_urls(self, ref: ResourceRef) -> dict[str, str]:
        """Pre-signed download URLs by path, from the paged listing."""
        urls: dict[str, str] = {}
        for body in self._pages(ref, f"{self._base(ref)}/{ref.version}/files", "filepath"):
            for path, url in zip(body.get("filepath") or [], body.get("urls") or [], strict=False):
                if isinstance(path, str) and isinstance(url, str) and url:
                    urls.setdefault(path, url)
        return urls

    def signed_url(self, ref: ResourceRef, path: str) -> str:
        urls = self._get_json(ref, f"{self._base(ref)}/{ref.version}/files", {"path": path}).get("urls") or []
        if not urls or not isinstance(urls[0], str):
            raise RegistryError(f"NGC gave no download URL for {path} of {ref}")
        return urls[0]

    def _pages(self, ref: ResourceRef, url: str, key: str) -> Iterator[dict[str, Any]]:
        """Every page of a listing, 0-based, as many as ``paginationInfo.totalPages`` says, within the
        listing bounds of ``http.pages``."""

        def fetch(number: int) -> Page[int, dict[str, Any]]:
            body, size = self._get_sized(ref, url, {"page-size": PAGE_SIZE, "page-number": number})
            entries = body.get(key) or []
            total = _total_pages(body, ref)
            return Page(
                body,
                size,
                len(entries) if isinstance(entries, list) else 0,
                number + 1 if number + 1 < total else None,
                total,
            )

        return pages(fetch, 0, f"NGC listing of {ref}")

    # -- downloads ---------------------------------------------------------------------------------

    def download(self, ref: ResourceRef, dest: Path) -> list[Path]:
        """Fetch every file into ``dest/<name>_v<version>/``; each file's size is checked against the listing."""
        meta = self.version(ref)
        files = self.files(ref)
        listed = sum(f.size for f in files)
        expected = meta.get("totalSizeInBytes")
        try:
            total = None if expected is None else int(expected)
        except (TypeError, ValueError):
            raise RegistryError(f"NGC gave {ref} a total size that is not a number: {str(expected)[:40]!r}") from None
        if total is not None and total != listed:
            raise DigestMismatchError(f"{ref}: NGC lists files of {listed} bytes in all but a version of {total}")
        free = _free_bytes(dest)
        if (
            listed > free
        ):  # NGC's listing sizes the download: a version of a petabyte is refused, not written until the disk fills
            raise InputError(
                f"{ref}: NGC lists {listed} bytes of files, more than the {free} bytes free where {dest} is"
            )
        urls = self.signed_urls(ref)
        folder = dest / version_dir(ref)
        return [self._download_file(ref, f, urls.get(f.path) or self.signed_url(ref, f.path), folder) for f in files]

    def _download_file(self, ref: ResourceRef, file: ResourceFile, url: str, folder: Path) -> Path:
        relative = safe_relative(file.path)
        path = own_folder(folder.parent, (folder.name, *relative.parent.parts)) / relative.name
        partial, out = private_temp(
            path, ".part"
        )  # a new private file: nothing planted in a shared DEST is written through
        what = f"download {file.path} of {ref}"

        def attempt() -> None:
            have = out.tell()
            headers = {"Range": f"bytes={have}-"} if 0 < have < file.size else {}
            request = self._http.build_request(
                "GET",
                url,
                headers=headers,  # pre-signed: no Authorization
                extensions=named_by("pre-signed URL", self.api_url),
            )
            response = self._http.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code not in (200, 206):
                    storage = response.url.copy_with(query=None)  # pre-signed: the query is the credential
                    raise error_from(
                        bounded(response, MAX_ANSWER_BYTES, what),
                        f"{what} from {storage}",
                        response.url.host,
                        denied_hint="the pre-signed URL was refused (expired?); run again for a new one",
                    )
                if not (response.status_code == 206 and headers):
                    out.seek(0)
                    out.truncate()
                for chunk in moving(
                    response.iter_bytes(), what, whole_chunks=False
                ):  # what arrived before a drop or a stall is kept
                    out.write(chunk)
                    if out.tell() > file.size:
                        break
                out.flush()
            finally:
                response.close()
            size = out.tell()
            if size < file.size:
                raise httpx.ReadError(f"{file.path}: {size} of {file.size} bytes so far")  # the retry resumes from here
            if size > file.size:
                raise DigestMismatchError(f"{what}: more than the {file.size} bytes NGC lists")

        try:
            with out:
                call_with_retries(attempt, self.retry, what)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return path


def _free_bytes(dest: Path) -> int:
    """Bytes free on the file system ``dest`` is (or will be) on: its nearest existing folder's."""
    existing = next(p for p in (dest, *dest.parents) if p.exists())
    return shutil.disk_usage(existing).free


def _total_pages(body: dict[str, Any], ref: ResourceRef) -> int:
    info = body.get("paginationInfo") or {}
    try:
        return int(info.get("totalPages") or 1)
    except (AttributeError, TypeError, ValueError):
        raise RegistryError(f"NGC answered a listing of {ref} with a malformed paginationInfo") from None


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise RegistryError(f"{what}: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise RegistryError(f"{what}: the answer is not a JSON object")
    return body


def client_from_env(env: Mapping[str, str], verify: Any = True, retry: RetryPolicy | None = None) -> NgcClient:
    return NgcClient(ngc_key(env), env.get(API_URL_ENV, API_URL), env.get(AUTHN_URL_ENV, AUTHN_URL), retry, verify)
