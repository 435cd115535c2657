"""The NGC REST API for resources: ``NgcClient`` downloads a version's files. Its requests and tokens
are ``ngc_session``'s, what NGC lists of a resource ``ngc_listing``'s.

Pre-signed storage URLs get no Authorization; an interrupted file resumes with a Range request.
Files land as the ngc CLI writes them: ``DEST/<name>_v<version>/<path>``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from provider_helper.artifacts import ResourceRef
from provider_helper.errors import DigestMismatchError, InputError, RegistryError
from provider_helper.fsutil import own_folder, private_temp
from provider_helper.http import MAX_ANSWER_BYTES, bounded, error_from, moving
from provider_helper.ngc_listing import NgcListing, ResourceFile
from provider_helper.ngc_session import API_URL, API_URL_ENV, AUTHN_URL, AUTHN_URL_ENV
from provider_helper.registry.credentials import ngc_key
from provider_helper.retry import RetryPolicy, call_with_retries
from provider_helper.transport import named_by


def version_dir(ref: ResourceRef) -> str:
    """The folder the ngc CLI downloads a version into."""
    return f"{ref.name}_v{ref.version}"


def safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if not relative.parts or ".." in relative.parts or relative.is_absolute() or "\\" in path or "\x00" in path:
        raise RegistryError(f"NGC listed a file path outside the resource: {path!r}")
    return relative


class NgcClient(NgcListing):
    """One NGC API client: its tokens, listings (``NgcListing``) and the downloads of a version's files."""

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
        # NGC's listing sizes the download: a version of a petabyte is refused, not written until the disk fills
        if listed > free:
            raise InputError(
                f"{ref}: NGC lists {listed} bytes of files, more than the {free} bytes free where {dest} is"
            )
        urls = self.signed_urls(ref)
        folder = dest / version_dir(ref)
        return [self._download_file(ref, f, urls.get(f.path) or self.signed_url(ref, f.path), folder) for f in files]

    def _download_file(self, ref: ResourceRef, file: ResourceFile, url: str, folder: Path) -> Path:
        relative = safe_relative(file.path)
        path = own_folder(folder.parent, (folder.name, *relative.parent.parts)) / relative.name
        # a new private file: nothing planted in a shared DEST is written through
        partial, out = private_temp(path, ".part")
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
                # what arrived before a drop or a stall is kept
                for chunk in moving(response.iter_bytes(), what, whole_chunks=False):
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


def client_from_env(env: Mapping[str, str], verify: Any = True, retry: RetryPolicy | None = None) -> NgcClient:
    return NgcClient(ngc_key(env), env.get(API_URL_ENV, API_URL), env.get(AUTHN_URL_ENV, AUTHN_URL), retry, verify)
