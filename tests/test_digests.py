"""provider_helper/oci/digests.py: digests by the OCI grammar (sha256 or sha512, lower-case hex of the right length),
and the one digest-verifying reader: a stream is refused as soon as it passes its size, and its last chunk is held
back until the digest checks out, so no consumer ever receives a complete body of wrong content."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from provider_helper.errors import DigestMismatchError, RegistryError, TooLargeError
from provider_helper.oci.digests import (
    check_file,
    checked_digest,
    digest_of,
    file_digest,
    hashed_prefix,
    read_verified,
    verified,
)

DATA = b"the bytes of a layer" * 100
SHA256 = "sha256:" + hashlib.sha256(DATA).hexdigest()
SHA512 = "sha512:" + hashlib.sha512(DATA).hexdigest()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("digest", [SHA256, SHA512], ids=["sha256", "sha512"])
def test_both_algorithms_of_the_grammar_are_accepted_computed_and_verified(digest: str) -> None:
    assert checked_digest(digest) == digest
    assert digest_of(DATA, digest) == digest
    assert b"".join(verified(_chunks(DATA, 100), digest, len(DATA), "blob")) == DATA


@pytest.mark.parametrize(
    "digest",
    [
        SHA256.upper(),  # upper-case hex is not the grammar's
        SHA256[:-1],  # one hex short
        SHA256 + "\n",  # a trailing line break
        "md5:" + hashlib.md5(DATA).hexdigest(),  # not an algorithm the grammar has
        "sha256:" + "g" * 64,
        None,
    ],
    ids=["upper-case", "short", "line-break", "md5", "not-hex", "not-a-string"],
)
def test_anything_else_is_refused_in_one_line_naming_the_place(digest: object) -> None:
    with pytest.raises(RegistryError) as refused:
        checked_digest(digest, "a lock entry")
    assert str(refused.value) == f"invalid digest {repr(digest)[:80]} in a lock entry"


def test_a_stream_longer_than_its_size_is_refused_as_it_passes_the_size_not_read_to_its_end() -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(10_000):
            pulled += 1
            yield b"x" * 10

    with pytest.raises(DigestMismatchError) as refused:
        for _ in verified(endless(), SHA256, 25, "source blob sha256:abc"):
            pass
    assert str(refused.value) == "source blob sha256:abc does not match its digest: more than the 25 bytes it has"
    assert pulled == 3, "the reader went on reading past the size"


def test_wrong_content_is_refused_naming_the_bytes_seen_and_what_they_hash_to() -> None:
    wrong = DATA[:-1] + b"!"
    with pytest.raises(DigestMismatchError) as refused:
        list(verified(_chunks(wrong, 100), SHA256, len(DATA), "blob x"))
    actual = "sha256:" + hashlib.sha256(wrong).hexdigest()
    assert str(refused.value) == f"blob x does not match its digest: {len(wrong)} bytes hashing to {actual}"


def test_a_short_stream_is_refused_even_when_it_is_a_prefix_of_the_content() -> None:
    with pytest.raises(DigestMismatchError):
        list(verified(_chunks(DATA[:500], 100), SHA256, len(DATA), "blob"))


def test_the_last_chunk_of_wrong_content_never_reaches_the_consumer() -> None:
    """A consumer (an upload, a file) gets every chunk but the last before the check: never a whole wrong body."""
    wrong = b"a" * 100 + b"b" * 100 + b"c" * 100
    received: list[bytes] = []
    with pytest.raises(DigestMismatchError):
        for chunk in verified(_chunks(wrong, 100), SHA256, len(wrong), "blob"):
            received.append(chunk)
    assert received == [b"a" * 100, b"b" * 100]
    single: list[bytes] = []
    with pytest.raises(DigestMismatchError):
        for chunk in verified([wrong], SHA256, None, "blob"):
            single.append(chunk)
    assert single == [], "a one-chunk body of wrong content was handed on before its check"


def test_small_content_read_whole_is_kept_at_its_bound_and_refused_one_byte_past_it() -> None:
    assert read_verified(_chunks(DATA, 64), SHA256, len(DATA), "a config") == DATA
    with pytest.raises(TooLargeError) as refused:
        read_verified(_chunks(DATA, 64), SHA256, len(DATA) - 1, "a config")
    assert str(refused.value) == f"a config is larger than {len(DATA) - 1} bytes"


def test_a_file_is_checked_hashed_and_resumed_through_the_same_reader(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    assert file_digest(path) == (SHA256, len(DATA))
    assert file_digest(path, "sha512:") == (SHA512, len(DATA))
    check_file(path, SHA256, len(DATA), "blob")
    with pytest.raises(DigestMismatchError):
        check_file(path, SHA256, len(DATA) + 1, "blob")
    part = tmp_path / "part"
    part.write_bytes(DATA[:700])
    held = hashed_prefix(part, SHA256)
    assert held[0] == 700
    assert b"".join(verified(_chunks(DATA[700:], 100), SHA256, len(DATA), "blob", held=held)) == DATA[700:]
