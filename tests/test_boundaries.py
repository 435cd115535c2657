"""Every unit conversion and every limit of the README's limits table, at the limit and one past it.

The limits are read from the README's table where it states them, so a limit changed in the code or
in the docs alone fails here too. Registry answers come from scripted loopback servers (a real
registry cannot be made to answer exactly 4 MiB); archive limits from tar headers built in memory
(a header may claim 64 GiB without the bytes behind it)."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import run_cli
from hostile import Reply, ScriptedServer

from provider_helper.archive_members import ArchiveError, ExtractLimits, checked_members
from provider_helper.content.registry import RegistryClient
from provider_helper.errors import InputError, RegistryError, TooLargeError
from provider_helper.http import Page, bounded, pages
from provider_helper.mirror.attached import refuse_long_listing
from provider_helper.oci.manifest import OCI_MANIFEST, Descriptor
from provider_helper.results import human_bytes
from provider_helper.splitarchive import PartsWriter, parse_size, part_path

REPO = Path(__file__).resolve().parents[1]
README = " ".join((REPO / "README.md").read_text().split())
BINARY = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def _limit(row: str) -> str:
    """The limit column of the README's limits table for the row whose first cell starts with ``row``."""
    found = re.findall(rf"\| {re.escape(row)}[^|]* \| ([^|]+) \|", README)
    assert len(found) == 1, f"the limits table has {len(found)} rows starting {row!r}"
    return str(found[0]).strip()


def _size(text: str) -> int:
    number, unit = re.match(r"([\d,]+) (KiB|MiB|GiB)", text).groups()  # type: ignore[union-attr]
    return int(number.replace(",", "")) * BINARY[unit]


# -- sizes shown and sizes read --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        ((1 << 20) - 1, "1.0 MiB"),
        (1 << 20, "1.0 MiB"),
        ((1 << 20) - 51, "1.0 MiB"),
        ((1 << 20) - 52, "1023.9 KiB"),
        ((1 << 30) - 1, "1.0 GiB"),
        (1 << 30, "1.0 GiB"),
        (5 * (1 << 30) // 2, "2.5 GiB"),
        (1 << 40, "1024.0 GiB"),
    ],
)
def test_sizes_show_in_the_largest_binary_unit_below_1024_at_every_boundary(n: int, shown: str) -> None:
    """The README: sizes are in KiB, MiB and GiB; so 1 KiB is "1.0 KiB" (not "1024 B") and no size shows as 1024
    of a unit below GiB."""
    assert "Sizes and rates are in KiB, MiB and GiB" in README
    assert human_bytes(n) == shown


def test_an_archive_part_of_1_mib_is_the_smallest_and_one_byte_less_is_one_line_exit_2(tmp_path: Path) -> None:
    assert parse_size("1MiB") == parse_size("1048576") == 1 << 20
    with pytest.raises(InputError):
        parse_size("1048575")
    for given in ("1048575", "1023KiB", "4 parsecs", "0"):
        done = run_cli("save", "--to", str(tmp_path / "b.tar"), "--archive-size", given)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.strip() == (
            f"nvcf-mirror: error: --archive-size {given!r}: expected a size of at least 1 MiB, such as 4GiB or 500MB"
        ), done.stderr


# -- answers read whole ----------------------------------------------------------------------------


def _padded_manifest(size: int) -> bytes:
    head = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "0" * 64, "size": 2},
        "layers": [],
        "annotations": {"pad": ""},
    }
    text = json.dumps(head, separators=(",", ":")).encode()
    return text.replace(b'"pad":""', b'"pad":"' + b"x" * (size - len(text)) + b'"')


def test_a_manifest_of_exactly_4_mib_is_read_and_one_byte_more_is_refused(servers: list[Any]) -> None:
    limit = _size(_limit("a manifest or index"))
    assert limit == 4 << 20
    for size, accepted in ((limit, True), (limit + 1, False)):
        body = _padded_manifest(size)
        assert len(body) == size
        registry = ScriptedServer("127.0.0.2", _answering(body))
        servers.append(registry)
        with closing(RegistryClient(registry.host)) as client:
            if accepted:
                assert len(client.get_manifest("org/app", "1").data) == size
            else:
                with pytest.raises(TooLargeError, match=f"larger than {limit} bytes"):
                    client.get_manifest("org/app", "1")


def test_a_token_answer_of_exactly_1_mib_is_read_and_one_byte_more_is_refused(servers: list[Any]) -> None:
    limit = _size(_limit("a token service's answer"))
    assert limit == 1 << 20
    for size, accepted in ((limit, True), (limit + 1, False)):
        token = b'{"token": "t0k3n"' + b" " * (size - 18) + b"}"
        assert len(token) == size

        def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str], token: bytes = token) -> Reply:
            if path.startswith("/token"):
                return Reply(200, {"Content-Type": "application/json"}, token)
            if headers.get("authorization") == "Bearer t0k3n":
                return Reply(200, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": "sha256:" + "a" * 64})
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{me.url}/token"'})

        registry = ScriptedServer("127.0.0.2", route)
        servers.append(registry)
        with closing(RegistryClient(registry.host)) as client:
            if accepted:
                assert client.head_manifest("org/app", "1") == "sha256:" + "a" * 64
            else:
                with pytest.raises(RegistryError, match=f"larger than {limit} bytes"):
                    client.head_manifest("org/app", "1")


def test_an_upload_answer_of_exactly_64_kib_is_read_and_one_byte_more_is_refused(servers: list[Any]) -> None:
    limit = _size(_limit("any other registry answer"))
    assert limit == 64 << 10
    data = b"layer"
    blob = Descriptor("application/octet-stream", "sha256:" + __import__("hashlib").sha256(data).hexdigest(), len(data))
    for size, accepted in ((limit, True), (limit + 1, False)):

        def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str], size: int = size) -> Reply:
            if method == "POST":
                return Reply(202, {"Location": "/v2/org/app/blobs/uploads/u1"})
            if method == "HEAD":
                return Reply(404)
            return Reply(201, {"Content-Type": "text/plain", "Docker-Content-Digest": blob.digest}, b" " * size)

        registry = ScriptedServer("127.0.0.2", route)
        servers.append(registry)
        with closing(RegistryClient(registry.host)) as client:
            if accepted:
                client.put_blob("org/app", blob, iter([data]))
            else:
                with pytest.raises(RegistryError, match=f"larger than {limit} bytes"):
                    client.put_blob("org/app", blob, iter([data]))


def test_an_answer_may_take_30_s_at_any_rate_then_must_average_1_kib_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a clock the test moves: at 40 s, 10 KiB (1 KiB/s over the 10 s past the grace) passes and a byte less
    is given up."""
    assert "any rate for 30 s, then at least 1 KiB/s on average" in _limit("time an answer read whole may take")

    def read(chunks: list[tuple[float, int]]) -> int:
        times = iter([0.0, *[at for at, _ in chunks]])
        monkeypatch.setattr("provider_helper.http.time.monotonic", lambda: next(times))
        response = httpx.Response(
            200, content=iter([b"x" * n for _, n in chunks]), request=httpx.Request("GET", "http://h/")
        )
        return len(bounded(response, 1 << 20, "answer").content)

    assert read([(29.0, 1), (30.0, 0)]) == 1, "within the grace any rate passes"
    assert read([(40.0, 10 * 1024)]) == 10 * 1024
    with pytest.raises(RegistryError, match="slower than 1 KiB/s after 30 s"):
        read([(40.0, 10 * 1024 - 1)])


# -- listings and what is attached -----------------------------------------------------------------


def _listing(count: int, *, entries: int = 1, size: int = 1, announced: int | None = None) -> list[int]:
    def fetch(n: int) -> Page[int, int]:
        return Page(n, size, entries, n + 1 if n + 1 < count else None, announced)

    return list(pages(fetch, 0, "tags"))


def test_a_listing_of_1000_pages_100000_entries_or_16_mib_is_read_and_one_more_is_refused() -> None:
    assert _limit("a paged listing").startswith(
        "1,000 pages (or a server announcing more), 100,000 entries, 16 MiB in all"
    )
    assert len(_listing(1000)) == 1000
    with pytest.raises(TooLargeError, match="more than 1000 pages"):
        _listing(1001)
    assert len(_listing(1, announced=1000)) == 1
    with pytest.raises(TooLargeError, match="more than 1000 pages"):
        _listing(1, announced=1001)
    assert len(_listing(100, entries=1000)) == 100
    with pytest.raises(TooLargeError, match="more than 100000 entries"):
        _listing(2, entries=50_001)
    assert len(_listing(16, size=1 << 20)) == 16
    with pytest.raises(TooLargeError, match="more than 16 MiB"):
        _listing(2, size=(8 << 20) + 1)


def test_256_referrers_of_one_digest_are_taken_and_257_refused() -> None:
    assert _limit("referrers of one digest") == "256"
    refuse_long_listing("referrers of sha256:x", 256)
    with pytest.raises(RegistryError, match="names 257 manifests, more than the 256 nvcf-mirror copies"):
        refuse_long_listing("referrers of sha256:x", 257)


# -- archives --------------------------------------------------------------------------------------


def _tar(*sizes: int, members: int = 0) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for n, size in enumerate(sizes):
            info = tarfile.TarInfo(f"f{n}")
            info.size = size
            tar.addfile(info, io.BytesIO(b"x" * size))
        for n in range(members):
            info = tarfile.TarInfo(f"d{n}")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def _check(archive: io.BytesIO, limits: ExtractLimits | None = None, compressed_size: int | None = None) -> int:
    limits = limits or ExtractLimits()
    with tarfile.open(fileobj=archive, mode="r:") as tar:
        return sum(1 for _ in checked_members(tar, "bundle.tar", limits, compressed_size))


def test_an_archive_unpacking_to_exactly_its_byte_limit_passes_and_one_byte_more_is_refused() -> None:
    """The default is the README's 64 GiB; the comparison is held at a limit set as --max-extract-bytes sets it."""
    assert _size(_limit("bytes an archive unpacks to")) == ExtractLimits().max_bytes == 64 << 30
    limits = ExtractLimits(max_bytes=1000)
    assert _check(_tar(600, 400), limits) == 2
    with pytest.raises(
        ArchiveError, match=re.escape("bundle.tar: unpacks to more than 1000 bytes (raise with --max-extract-bytes)")
    ):
        _check(_tar(600, 401), limits)


def test_an_archive_of_exactly_its_entry_limit_passes_and_one_more_is_refused() -> None:
    assert int(_limit("entries in an archive").replace(",", "")) == ExtractLimits().max_members == 20_000
    limits = ExtractLimits(max_members=50)
    assert _check(_tar(members=50), limits) == 50
    with pytest.raises(
        ArchiveError,
        match=re.escape(
            "bundle.tar: more than 50 entries, counting the folders they imply (raise with --max-extract-members)"
        ),
    ):
        _check(_tar(members=51), limits)


def test_a_compressed_archive_may_unpack_to_exactly_200_times_its_size_and_not_a_byte_more() -> None:
    ratio = int(_limit("unpacked / compressed size").rstrip("x"))
    assert ratio == ExtractLimits().max_ratio == 200
    assert _check(_tar(10 * ratio), compressed_size=10) == 1
    with pytest.raises(
        ArchiveError, match=f"unpacks to more than {10 * ratio} bytes \\(raise with --max-extract-ratio\\)"
    ):
        _check(_tar(10 * ratio + 1), compressed_size=10)


@pytest.mark.parametrize(
    ("written", "parts"),
    [(2 << 20, [1 << 20, 1 << 20]), ((2 << 20) + 1, [1 << 20, 1 << 20, 1]), ((1 << 20) - 1, [(1 << 20) - 1])],
)
def test_a_split_bundle_fills_each_part_to_exactly_its_size_before_the_next(
    tmp_path: Path, written: int, parts: list[int]
) -> None:
    """Parts of at most --archive-size: exactly two sizes' worth makes two full parts, one byte more a third."""
    writer = PartsWriter(tmp_path / "b.tar", parse_size("1MiB"))
    for offset in range(0, written, 300_000):  # writes that do not line up with the parts
        writer.write(b"x" * min(300_000, written - offset))
    writer.commit()
    assert [part_path(tmp_path / "b.tar", n).stat().st_size for n in range(len(parts))] == parts
    assert not part_path(tmp_path / "b.tar", len(parts)).exists()
    assert len((tmp_path / "b.tar.sha256").read_text().splitlines()) == len(parts)


def _answering(body: bytes) -> Callable[[ScriptedServer, str, str, dict[str, str]], Reply]:
    """A registry route answering every request with ``body`` as an OCI manifest."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        return Reply(200, {"Content-Type": OCI_MANIFEST}, body)

    return route
