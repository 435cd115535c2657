"""The blob calls of the registry store: HEAD, streaming reads (whole or from an offset), cross-repository
mounts and uploads (POST then one streaming PUT). A blob upload streams from its source, so it is not
retried here: the copy engine retries a blob as a whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import httpx

from provider_helper.content.registry_connection import RegistryConnection, failures_as_kinds, transport_errors
from provider_helper.errors import RegistryError
from provider_helper.http import MAX_ANSWER_BYTES, bounded, moving
from provider_helper.oci.digests import read_verified
from provider_helper.oci.manifest import Descriptor
from provider_helper.transport import named_by


class RegistryBlobs(RegistryConnection):
    """A registry's blobs: what the copy engine reads and writes of a layer or a config."""

    def has_blob(self, repo: str, digest: str) -> bool:
        response = self._send(
            "HEAD",
            f"/v2/{repo}/blobs/{digest}",
            expect={200, 404},
            follow_redirects=True,
            what=f"head blob {repo}@{digest[:19]}",
        )
        return response.status_code == 200

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        """A small blob (a config) in memory, verified."""
        with self.open_blob(repo, digest) as chunks:
            return read_verified(chunks, digest, max_bytes, f"blob {digest} in {self.host}/{repo}")

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        """Stream a blob, following redirects to storage (httpx drops Authorization across hosts). A
        connection that fails is an error kind (``UnreachableError``, worth another try), not httpx's."""
        what = f"get blob {repo}@{digest[:19]}"
        self._check_limit(what)
        with transport_errors(what):
            request = self._http.build_request("GET", f"/v2/{repo}/blobs/{digest}")
            response = self._http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code != 200:
                raise self._error(bounded(response, MAX_ANSWER_BYTES, what), what)
            yield failures_as_kinds(moving(response.iter_bytes(), what), what)
        finally:
            response.close()

    @contextlib.contextmanager
    def open_blob_from(self, repo: str, digest: str, offset: int) -> Iterator[tuple[int, Iterator[bytes]]]:
        """A blob's bytes from ``offset`` on (``Range: bytes=offset-``), and where they start: ``offset``
        when the registry answered 206 for exactly that range, 0 when it ignored the range (200: the
        whole blob). Unverified, like ``open_blob``: the caller hashes what it already holds first."""
        what = f"get blob {repo}@{digest[:19]} from byte {offset}"
        with transport_errors(what):
            range_ = {"Range": f"bytes={offset}-"}
            request = self._http.build_request("GET", f"/v2/{repo}/blobs/{digest}", headers=range_)
            response = self._http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code == 206:
                served = response.headers.get("content-range", "")
                if not served.startswith(f"bytes {offset}-"):
                    raise RegistryError(
                        f"{what} at {self.host}: asked for bytes {offset}- and got the range {served[:60]!r}"
                    )
                start = offset
            elif response.status_code == 200:
                start = 0
            else:
                raise self._error(bounded(response, MAX_ANSWER_BYTES, what), what)
            yield start, failures_as_kinds(moving(response.iter_bytes(), what), what)
        finally:
            response.close()

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; False when the registry opened an upload instead (ECR without
        mounting enabled answers 202), which the next ``put_blob`` of this blob uses."""
        response = self._send(
            "POST",
            f"/v2/{repo}/blobs/uploads/",
            params={"mount": digest, "from": from_repo},
            expect={201, 202},
            what=f"mount blob into {repo}",
        )
        if response.status_code == 201:
            return True
        with self._opened_lock:
            self._opened[(repo, digest)] = self._location(response)
        return False

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        """Upload a blob in two requests, POST then one streaming PUT (ECR drops data past a first PATCH).
        One attempt: the copy engine retries a blob as a whole, from its source."""
        with self._opened_lock:
            location = self._opened.pop((repo, blob.digest), None)
        location = location or self.start_upload(repo)
        try:
            self.complete_upload(location, blob.digest, blob.size, chunks)
        except BaseException:
            self.cancel_upload(location)
            raise

    def start_upload(self, repo: str) -> str:
        """Open an upload session. Not retried here: it is one step of a blob copy, which the copy
        engine retries as a whole (from the source), so retries never multiply."""
        response = self._send(
            "POST", f"/v2/{repo}/blobs/uploads/", expect={202}, what=f"start upload to {repo}", attempts=1
        )
        return self._location(response)

    def complete_upload(self, location: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        """One streaming PUT carrying the whole blob."""
        url = httpx.URL(location).copy_merge_params({"digest": digest})
        what = f"upload blob {digest[:19]}"
        with transport_errors(what):
            request = self._http.build_request(
                "PUT",
                url,
                content=chunks,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                extensions=named_by("upload Location", self.base_url),
            )
            response = bounded(self._http.send(request, stream=True), MAX_ANSWER_BYTES, what)
        if response.status_code not in (201, 204):
            raise self._error(response, what)

    def cancel_upload(self, location: str) -> None:
        with contextlib.suppress(httpx.HTTPError, RegistryError):
            request = self._http.build_request(
                "DELETE", location, extensions=named_by("upload Location", self.base_url)
            )
            bounded(self._http.send(request, stream=True), MAX_ANSWER_BYTES, "cancel upload")
