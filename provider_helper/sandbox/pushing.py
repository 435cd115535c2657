"""Blobs and manifests pushed to one registry with plain httpx calls, independent of the client under
test, so that a bug in the product cannot hide itself by being used to build its own fixtures."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from provider_helper.sandbox.mediatypes import FORMATS, OCI_LAYER_RAW, Pushed, sha256


class Pusher:
    """Pushes synthetic content to one registry; ``authorize(repo)`` gives the Authorization header."""

    def __init__(self, base_url: str, authorize: Callable[[str], str]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.authorize = authorize

    def close(self) -> None:
        self.http.close()

    def _headers(self, repo: str, **extra: str) -> dict[str, str]:
        return {"Authorization": self.authorize(repo), **extra}

    # -- blobs -------------------------------------------------------------------------------

    def blob(self, repo: str, data: bytes, media_type: str) -> Pushed:
        digest = sha256(data)
        start = self.http.post(f"/v2/{repo}/blobs/uploads/", headers=self._headers(repo))
        start.raise_for_status()
        done = self.http.put(
            _with_digest(start.headers["location"], digest),
            content=data,
            headers=self._headers(repo, **{"Content-Type": "application/octet-stream"}),
        )
        done.raise_for_status()
        return Pushed(digest, len(data), media_type)

    def large_blob(self, repo: str, size: int, media_type: str = OCI_LAYER_RAW, chunk: int = 4 << 20) -> Pushed:
        """Random content streamed in one PATCH, hashed on the way: memory stays at one chunk."""
        hasher = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            left = size
            while left:
                piece = os.urandom(min(chunk, left))
                hasher.update(piece)
                left -= len(piece)
                yield piece

        start = self.http.post(f"/v2/{repo}/blobs/uploads/", headers=self._headers(repo))
        start.raise_for_status()
        patched = self.http.patch(
            start.headers["location"],
            content=chunks(),
            headers=self._headers(repo, **{"Content-Type": "application/octet-stream"}),
        )
        patched.raise_for_status()
        digest = "sha256:" + hasher.hexdigest()
        done = self.http.put(_with_digest(patched.headers["location"], digest), headers=self._headers(repo))
        done.raise_for_status()
        return Pushed(digest, size, media_type)

    def layer(self, repo: str, size: int, fmt: str = "oci") -> Pushed:
        return self.blob(repo, gzip.compress(os.urandom(size), compresslevel=1), FORMATS[fmt][3])

    def tar_layer(self, repo: str, size: int, fmt: str = "oci") -> tuple[Pushed, str]:
        """A layer a container runtime can unpack (a gzipped tar of one random file), and its diff ID."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(f"data/{os.urandom(4).hex()}")
            info.size = size
            tar.addfile(info, io.BytesIO(os.urandom(size)))
        layer = self.blob(repo, gzip.compress(buffer.getvalue(), compresslevel=1), FORMATS[fmt][3])
        return layer, sha256(buffer.getvalue())

    # -- manifests ---------------------------------------------------------------------------

    def manifest(self, repo: str, reference: str, body: dict[str, Any], media_type: str) -> Pushed:
        data = json.dumps(body, indent=3).encode()  # not the product's encoding: digests must come from bytes
        response = self.http.put(
            f"/v2/{repo}/manifests/{reference}",
            content=data,
            headers=self._headers(repo, **{"Content-Type": media_type}),
        )
        response.raise_for_status()
        return Pushed(sha256(data), len(data), media_type)


def _with_digest(location: str, digest: str) -> httpx.URL:
    return httpx.URL(location).copy_merge_params({"digest": digest})


def digest_of_body(body: dict[str, Any]) -> str:
    return sha256(json.dumps(body, indent=3).encode())
