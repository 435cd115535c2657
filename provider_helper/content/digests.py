"""The one digest-verifying reader. Every byte the tool pushes, stores or hands back passes here:
a registry blob streamed to a target, a config read to learn an image's platform, a layout's blobs,
a chart against its repository index, a resource file pulled back from a registry."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from provider_helper.errors import DigestMismatchError, TooLargeError
from provider_helper.fsutil import open_regular
from provider_helper.registry.oci import hasher_for

FILE_CHUNK = 1024 * 1024


def verified(chunks: Iterable[bytes], digest: str, size: int | None, what: str) -> Iterator[bytes]:
    """``chunks`` passed through while hashing. The last chunk is held back until the digest (and the
    size, where known) check out, so whoever consumes this never receives a complete body of wrong
    content: a registry gets a short upload it discards, a file is never renamed into place."""
    hasher = hasher_for(digest)
    seen = 0
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
