"""What NGC lists of a resource: its latest version, its versions, one version's metadata, its files
with their sizes (``…/versions/{version}/files``, ``recipeFiles``, paged 0-based) and their pre-signed
download URLs (``…/{name}/{version}/files`` pages, ``filepath[]``/``urls[]``, or one file at a time
with ``?path=``). A version is downloaded only when its ``status`` is ``UPLOAD_COMPLETE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from provider_helper.artifacts import ResourceRef
from provider_helper.errors import RegistryError
from provider_helper.http import Page, pages
from provider_helper.ngc_session import NgcSession

READY = "UPLOAD_COMPLETE"
PAGE_SIZE = 100


@dataclass(frozen=True)
class ResourceFile:
    path: str
    size: int


class NgcListing(NgcSession):
    """A resource's versions and files as NGC lists them, every listing paged within ``http.pages``' bounds."""

    def _base(self, ref: ResourceRef) -> str:
        team = f"/team/{ref.team}" if ref.team else ""
        return f"{self.api_url}/v2/org/{ref.org}{team}/resources/{ref.name}"

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


def _total_pages(body: dict[str, Any], ref: ResourceRef) -> int:
    info = body.get("paginationInfo") or {}
    try:
        return int(info.get("totalPages") or 1)
    except (AttributeError, TypeError, ValueError):
        raise RegistryError(f"NGC answered a listing of {ref} with a malformed paginationInfo") from None
