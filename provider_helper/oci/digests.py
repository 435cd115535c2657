"""Digests: checked by the OCI grammar, computed, and the one digest-verifying reader. Every byte the
tool pushes, stores or hands back passes the reader: a registry blob streamed to a target, a config
read to learn an image's platform, a layout's blobs, a chart against its repository index, a resource
file pulled back from a registry."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from provider_helper.errors import DigestMismatchError, RegistryError, TooLargeError
from provider_helper.fsutil import open_regular
from provider_helper.oci.reference import DIGEST_RE

FILE_CHUNK = 1024 * 1024


def checked_digest(digest: object, where: str = "") -> str:
    """``digest`` when it is a digest by the OCI grammar (sha256 or sha512, lower-case hex of the
    right length); anything else is refused before it can become a path or a URL."""
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        shown = repr(digest)[:80]
        raise RegistryError(f"invalid digest {shown}{f' in {where}' if where else ''}")
    return digest


def hasher_for(digest: str) -> Any:
    algorithm, _, _ = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        raise RegistryError(f"unsupported digest algorithm in {digest}")
    return hashlib.new(algorithm)


def digest_of(data: bytes, like: str = "sha256:") -> str:
    """The digest of ``data`` in the algorithm of ``like`` (a digest, or just ``"sha512:"``)."""
    h = hasher_for(like)
    h.update(data)
    return f"{h.name}:{h.hexdigest()}"


def file_digest(path: Path, like: str = "sha256:") -> tuple[str, int]:
    """Digest and size of a file, read in 1 MiB chunks."""
    hasher = hasher_for(like)
    size = 0
    with open_regular(path) as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            hasher.update(chunk)
            size += len(chunk)
    return f"{hasher.name}:{hasher.hexdigest()}", size


def verified(
    chunks: Iterable[bytes], digest: str, size: int | None, what: str, *, held: tuple[int, Any] | None = None
) -> Iterator[bytes]:
    """``chunks`` passed through while hashing. The last chunk is held back until the digest (and the
    size, where known) check out, so whoever consumes this never receives a complete body of wrong
    content: a registry gets a short upload it discards, a file is never renamed into place.

    ``held``: the blob's first bytes are already in hand (a resumed transfer): how many, and the
    hasher that has read them; ``chunks`` are the rest, and the digest is checked on the whole."""
    seen, hasher = held if held is not None else (0, hasher_for(digest))
    pending: bytes | None = None
    for chunk in chunks:
        seen += len(chunk)
        if size is not None and seen > size:
            raise DigestMismatchError(f"{what} does not match its digest: more than the {size} bytes it has")
        hasher.update(chunk)
        if pending is not None:
            yield pending
        pending = chunk
    actual = f"{hasher.name}:{hasher.hexdigest()}"
    if (size is not None and seen != size) or actual != digest:
        raise DigestMismatchError(f"{what} does not match its digest: {seen} bytes hashing to {actual}")
    if pending is not None:
        yield pending


def read_verified(chunks: Iterable[bytes], digest: str, max_bytes: int, what: str) -> bytes:
    """Small content whole, in memory: refused past ``max_bytes`` before it is all read, and verified."""
    data = bytearray()
    for chunk in verified(chunks, digest, None, what):
        data += chunk
        if len(data) > max_bytes:
            raise TooLargeError(f"{what} is larger than {max_bytes} bytes")
    return bytes(data)


@contextlib.contextmanager
def open_file(path: Path) -> Iterator[Iterator[bytes]]:
    """A file's bytes in ``FILE_CHUNK`` chunks, closed when the block ends. Only a regular file is read:
    a link is not followed and a FIFO never blocks the open (``fsutil.open_regular``: an InputError)."""
    with open_regular(path) as handle:
        yield iter(lambda: handle.read(FILE_CHUNK), b"")


def file_chunks(path: Path) -> Iterator[bytes]:
    with open_file(path) as chunks:
        yield from chunks


def check_file(path: Path, digest: str, size: int | None, what: str) -> None:
    """Read ``path`` through the reader: DigestMismatchError unless it is exactly that content."""
    for _ in verified(file_chunks(path), digest, size, what):
        pass


def hashed_prefix(path: Path, digest: str) -> tuple[int, Any]:
    """The bytes ``path`` holds (the start of a blob a transfer was cut off in) and a hasher of
    ``digest``'s algorithm that has read them, for ``verified(..., held=...)`` to check the whole."""
    hasher = hasher_for(digest)
    held = 0
    for chunk in file_chunks(path):
        hasher.update(chunk)
        held += len(chunk)
    return held, hasher
