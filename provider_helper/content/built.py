"""Content the tool built itself, as a read-only store of one artifact: a classic Helm chart as
``helm push`` writes it, or an NGC resource version with one layer per file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from provider_helper.content.store import Reader
from provider_helper.errors import NotFoundError
from provider_helper.oci.digests import open_file, read_verified
from provider_helper.oci.manifest import Descriptor, Manifest


class BuiltArtifact:
    """One manifest and its blobs by digest: bytes in hand, or a file read when the blob is opened."""

    def __init__(self, manifest: Manifest, blobs: Mapping[str, bytes | Path]) -> None:
        self.manifest = manifest
        self._blobs = blobs

    def head_manifest(self, repo: str, reference: str) -> str | None:
        return self.manifest.digest if reference == self.manifest.digest else None

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        if reference != self.manifest.digest:
            raise NotFoundError(f"{reference} is not the built artifact {self.manifest.digest}")
        return self.manifest

    def tags(self, repo: str) -> list[str]:
        return []

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        return None

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        blob = self._blobs.get(digest)
        if blob is None:
            raise NotFoundError(f"blob {digest} is not part of the built artifact")
        if isinstance(blob, bytes):
            yield iter((blob,))
            return
        with open_file(blob) as chunks:
            yield chunks

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        with self.open_blob(repo, digest) as chunks:
            return read_verified(chunks, digest, max_bytes, f"blob {digest} of the built artifact")


_CHECKED: type[Reader] = BuiltArtifact  # mypy checks the class against the protocol here
