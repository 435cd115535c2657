"""An OCI image layout on disk as a content store (``content.store.Store``): the calls the copy engine
makes of a registry, answered by a directory. Blobs are shared by every artifact; each artifact's top
manifest is named in ``index.json`` by ``org.opencontainers.image.ref.name`` (``name:tag``), which is
what skopeo's ``oci:PATH:name:tag`` reads; a Docker-format image is named twice, first by an OCI-typed
copy for the readers that take only OCI entries (``oci.ocicopy``). The lock file, the writer lock and
bundles are the air-gap code's (``mirror.bundle_lock``, ``mirror.saving``, ``mirror.layout``,
``mirror.bundles``)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from provider_helper.content.store import Store
from provider_helper.errors import DigestMismatchError, InputError, NotFoundError
from provider_helper.fsutil import atomic_write, read_bounded, resumable_private
from provider_helper.oci.digests import check_file, checked_digest, file_chunks, hashed_prefix, open_file, read_verified
from provider_helper.oci.limits import MAX_MANIFEST_BYTES
from provider_helper.oci.manifest import OCI_INDEX, Descriptor, Manifest
from provider_helper.oci.ocicopy import COPY_OF, needs_copy, oci_copy
from provider_helper.oci.reference import DIGEST_RE

REF_NAME = "org.opencontainers.image.ref.name"
MAX_INDEX_BYTES = 4 * 1024 * 1024  # a bundle's index.json, read before it is parsed (as Distribution bounds an index)


class Base(Protocol):
    """What an earlier bundle holds (``mirror.bundles.Holdings``): answered as present, never written."""

    @property
    def manifests(self) -> Mapping[str, object]: ...
    @property
    def tags(self) -> Mapping[tuple[str, str], str]: ...  # (repository name, tag) -> digest
    def holds(self, digest: str) -> bool: ...


class Layout:
    """An OCI image layout as a content store (``content.store.Store``): the calls the copy engine makes
    of a registry, answered by a directory. Every repository shares one blob store; tags are the
    ``name:tag`` entries of ``index.json``."""

    def __init__(self, root: Path, base: Base | None = None) -> None:
        """``base``: what an earlier bundle holds (``save --since``), answered as present and not written."""
        self.root = root
        self.base = base
        self.host = f"oci:{root}"
        self._lock = threading.Lock()
        self._index = read_index(root) or {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}

    @classmethod
    def for_writing(cls, root: Path, base: Base | None = None) -> Layout:
        """Call under ``writer_lock(root)``: files a killed run left half-written are removed here."""
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        for leftover in [*root.glob(".upload-*"), *root.glob(".*.tmp")]:
            leftover.unlink(missing_ok=True)
        atomic_write(root / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
        layout = cls(root, base)
        layout._write_index()
        return layout

    def keep_entries(self, keep: Callable[[dict[str, Any]], bool]) -> None:
        """Drop the ``index.json`` entries ``keep`` refuses (what an earlier save left that cannot be trusted)."""
        with self._lock:
            self._index["manifests"] = [m for m in self._index["manifests"] if keep(m)]
            self._write_index()

    def blob_path(self, digest: str) -> Path:
        return blob_file(self.root, digest)

    def tagged(self, repo: str, tag: str) -> str | None:
        """The digest ``index.json`` names for ``repo:tag`` (the original, not its OCI copy), checked by the
        digest grammar."""
        with self._lock:
            entry = next((m for m in self._index["manifests"] if _names(m) == f"{repo}:{tag}"), None)
        return None if entry is None else checked_digest(entry.get("digest"), f"{self.root}/index.json")

    def head_manifest(self, repo: str, reference: str) -> str | None:
        if DIGEST_RE.fullmatch(reference):
            return (
                reference
                if self.blob_path(reference).exists() or (self.base and reference in self.base.manifests)
                else None
            )
        digest = self.tagged(repo, reference)
        if digest is not None and self.blob_path(digest).exists():
            return digest
        return self.base.tags.get((repo, reference)) if self.base else None

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        digest = self.head_manifest(repo, reference)
        if digest is None:
            raise NotFoundError(f"{repo}:{reference} is not in the layout {self.root}")
        return read_manifest(self.root, digest)

    def tags(self, repo: str) -> list[str]:
        with self._lock:
            names = [_names(m) or "" for m in self._index["manifests"]]
        return [name.partition(":")[2] for name in names if name.partition(":")[0] == repo]

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        return None  # a layout lists referrers under the fallback tag, as a registry without the API does

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        with contextlib.ExitStack() as stack:
            try:
                chunks = stack.enter_context(open_file(self.blob_path(digest)))
            except FileNotFoundError:
                raise NotFoundError(f"blob {digest} is not in the layout {self.root}") from None
            yield chunks

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        with self.open_blob(repo, digest) as chunks:
            return read_verified(chunks, digest, max_bytes, f"blob {digest} in the layout {self.root}")

    def has_blob(self, repo: str, digest: str) -> bool:
        return self.blob_path(digest).exists() or (self.base is not None and self.base.holds(digest))

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        return self.has_blob(repo, digest)  # one blob store for every repository of the layout

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        self.put_blob_from(repo, blob, 0, chunks)

    # -- resuming inside a blob (content.store.ResumableStore) --

    def _partial_path(self, digest: str) -> Path:
        return self.root / f".partial-{self.blob_path(digest).name}"

    def partial_blob(self, blob: Descriptor) -> tuple[int, Any] | None:
        """What an interrupted save left of ``blob``: its size and a hasher that has read it (the whole
        blob is checked against its digest when the rest has come)."""
        path = self._partial_path(blob.digest)
        try:
            status = path.lstat()
        except FileNotFoundError:
            return None
        held = status.st_size
        # a link, another user's file, or not a part of this blob: started again
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid() or not 0 < held < blob.size:
            path.unlink(missing_ok=True)
            return None
        return hashed_prefix(path, blob.digest)

    def put_blob_from(self, repo: str, blob: Descriptor, offset: int, chunks: Iterable[bytes]) -> None:
        """A blob file exists only when complete: its bytes go to ``.partial-<hex>`` (from ``offset``; 0
        starts it again), which is renamed into place when the digest checked out; a transfer that
        stops leaves it for the next try. Content that fails its digest check leaves nothing."""
        path = self.blob_path(blob.digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._partial_path(blob.digest)
        try:
            # this user's only, and never through a link planted under the partial's name
            with resumable_private(partial) as out:
                out.truncate(offset)
                out.seek(offset)
                for chunk in chunks:
                    out.write(chunk)
        except DigestMismatchError:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, path)

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None:
        path = self.blob_path(manifest.digest)
        if not path.exists():
            atomic_write(path, [manifest.data], temp=self.root / f".upload-{uuid.uuid4().hex}")
        if DIGEST_RE.fullmatch(reference):
            return
        name = f"{repo}:{reference}"
        descriptors = [_entry(manifest, {REF_NAME: name})]
        if needs_copy(manifest):  # the OCI copy first, the original last (ctr images import keeps the last of a name)
            copies = oci_copy(manifest, lambda digest: manifest_if_there(self.root, digest))
            for copy in copies:
                if not self.blob_path(copy.digest).exists():
                    atomic_write(
                        self.blob_path(copy.digest), [copy.data], temp=self.root / f".upload-{uuid.uuid4().hex}"
                    )
            descriptors.insert(0, _entry(copies[-1], {REF_NAME: name, COPY_OF: manifest.digest}))
        with self._lock:
            kept = [m for m in self._index["manifests"] if (m.get("annotations") or {}).get(REF_NAME) != name]
            self._index["manifests"] = [*kept, *descriptors]
            self._write_index()

    def _write_index(self) -> None:
        atomic_write(self.root / "index.json", json.dumps(self._index, indent=2))


def _entry(manifest: Manifest, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "mediaType": manifest.media_type,
        "digest": manifest.digest,
        "size": len(manifest.data),
        "annotations": annotations,
    }


def _names(entry: dict[str, Any]) -> str | None:
    """The ``name:tag`` an ``index.json`` entry gives, None for the OCI copy of a Docker-format original."""
    annotations = entry.get("annotations") or {}
    return None if COPY_OF in annotations else annotations.get(REF_NAME)


def manifest_if_there(root: Path, digest: str) -> Manifest | None:
    """The manifest blob ``digest`` of the layout at ``root``, None where the layout does not hold it."""
    return read_manifest(root, digest) if blob_file(root, digest).exists() else None


def blob_file(root: Path, digest: str) -> Path:
    """Where the OCI image layout keeps a blob: ``blobs/<algorithm>/<hex>``, for a valid digest only."""
    algorithm, _, hex_ = checked_digest(digest, f"the layout {root}").partition(":")
    return root / "blobs" / algorithm / hex_


def read_manifest(root: Path, digest: str) -> Manifest:
    try:
        data = read_verified(
            file_chunks(blob_file(root, digest)), digest, MAX_MANIFEST_BYTES, f"manifest {digest} in the layout"
        )
    except FileNotFoundError:
        raise NotFoundError(f"manifest {digest} is missing from the layout") from None
    return Manifest.from_bytes(data, None, digest)


def check_layout_blob(root: Path, blob: Descriptor) -> None:
    try:
        check_file(blob_file(root, blob.digest), blob.digest, blob.size, f"blob {blob.digest} in the layout")
    except FileNotFoundError:
        raise NotFoundError(f"blob {blob.digest} is missing from the layout") from None


def read_index(root: Path) -> dict[str, Any] | None:
    """``index.json``, whose ``manifests`` must be a list of objects (a bundle's comes from elsewhere)."""
    index = read_json_object(root / "index.json", MAX_INDEX_BYTES)
    if index is not None and not (
        isinstance(index.get("manifests"), list) and all(isinstance(m, dict) for m in index["manifests"])
    ):
        raise InputError(f"{root / 'index.json'}: not an OCI image index (its manifests must be a list of objects)")
    return index


def read_json_object(path: Path, max_bytes: int) -> dict[str, Any] | None:
    """The JSON object in ``path``, read only when it is a regular file within ``max_bytes``; None when
    there is no such file. Anything else is refused (a bundle's files come from elsewhere)."""
    try:
        data = json.loads(read_bounded(path, max_bytes, "a bundle's JSON file"))
    except FileNotFoundError:
        return None
    except ValueError:
        raise InputError(f"{path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a JSON object")
    return data


_CHECKED: type[Store] = Layout  # mypy checks the class against the protocol here
