"""Unit tests of provider_helper/http.py: the redirect policy of its client, blob bytes in whole chunks."""

from __future__ import annotations

import re
from contextlib import closing
from importlib import metadata
from typing import Any

import httpx
import pytest
import readme_text

from provider_helper import http as http_layer
from provider_helper.errors import TooLargeError, TransientError


@pytest.mark.parametrize(
    ("location", "refused"),
    [
        ("http://203.0.113.7/x", "it leaves TLS"),
        ("https://169.254.169.254/latest/meta-data/", "an internal address"),
        ("https://10.0.0.5/x", "an internal address"),
        ("https://[fe80::1]/x", "an internal address"),
    ],
)
def test_redirects_never_leave_tls_nor_move_from_a_public_origin_into_an_internal_one(
    location: str, refused: str
) -> None:
    """A public origin cannot be served on this machine: a mocked transport stands in for it, and no
    request is ever sent to the redirect's target (the policy refuses before httpx follows)."""
    from provider_helper import http
    from provider_helper.errors import PolicyError

    asked: list[str] = []

    def public(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": location})

    with (
        closing(http.client(transport=httpx.MockTransport(public), follow_redirects=True)) as client,
        pytest.raises(PolicyError, match=refused),
    ):
        client.get("https://helm.example.com/charts/app-1.0.0.tgz.prov")
    assert asked == ["https://helm.example.com/charts/app-1.0.0.tgz.prov"]
    with closing(
        http.client(
            transport=httpx.MockTransport(
                lambda r: (
                    httpx.Response(200)
                    if r.url.host == "127.0.0.3"
                    else httpx.Response(302, headers={"Location": "http://127.0.0.3/x"})
                )
            ),
            follow_redirects=True,
        )
    ) as local:
        assert local.get("http://127.0.0.2/x").status_code == 200, (
            "loopback to loopback (the tests' own servers) is allowed"
        )


def test_blob_bytes_pass_through_in_whole_chunks_whatever_the_network_reads() -> None:
    reads = [b"a" * 700_000, b"b" * 700_000, b"c" * 10, b"d" * 2_000_000]
    chunks = list(http_layer.moving(iter(reads), "get blob x"))
    assert b"".join(chunks) == b"".join(reads)
    assert [len(c) for c in chunks[:-1]] == [http_layer.CHUNK_SIZE] * (len(chunks) - 1) and 0 < len(
        chunks[-1]
    ) <= http_layer.CHUNK_SIZE


# -- audit3: the figures the README states for the HTTP layer ------------------------------------------


def test_an_answer_read_whole_gets_30_s_at_any_rate_then_at_least_1_kib_per_second_as_the_readme_says() -> None:
    """README Limits: "time an answer read whole may take ... | any rate for 30 s, then at least 1 KiB/s on
    average"."""
    found = readme_text.said(r"any rate for (\d+) s, then at least (\d+ KiB)/s on average")
    assert http_layer._answer_limits() == (float(found[1]), readme_text.size(found[2]))


def test_a_paged_listing_is_bounded_to_the_pages_entries_and_bytes_the_readme_states() -> None:
    """README Limits: "a paged listing ... | 1,000 pages (or a server announcing more), 100,000 entries,
    16 MiB in all"."""
    found = re.match(
        r"([\d,]+) pages .*?, ([\d,]+) entries, (\d+ [KMG]iB) in all", readme_text.limit("a paged listing")
    )
    assert found is not None
    assert int(found[1].replace(",", "")) == http_layer.MAX_PAGES
    assert int(found[2].replace(",", "")) == http_layer.MAX_LISTING_ENTRIES
    assert readme_text.size(found[3]) == http_layer.MAX_LISTING_BYTES


def test_the_user_agent_is_nvcf_mirror_slash_its_version() -> None:
    """README modules: "clients (timeouts, TLS, proxies, `User-Agent: nvcf-mirror/<version>`, ...)"."""
    readme_text.said(r"`User-Agent: nvcf-mirror/<version>`")
    version = metadata.version("nvcf-mirror")
    assert http_layer.user_agent() == f"nvcf-mirror/{version}"


def test_blobs_stream_in_the_1_mib_chunks_the_readme_states() -> None:
    """README How it works: "Blobs stream from source to target in 1 MiB chunks (peak RSS stays around 80 MB
    while copying a 256 MiB layer)"."""
    found = readme_text.said(r"Blobs stream from source to target in (\d+ [KMG]iB) chunks")
    assert readme_text.size(found[1]) == http_layer.CHUNK_SIZE


@pytest.fixture
def default_blob_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither rate variable set: the defaults apply."""
    monkeypatch.delenv("NVCF_MIRROR_MIN_BLOB_RATE", raising=False)
    monkeypatch.delenv("NVCF_MIRROR_BLOB_RATE_WINDOW", raising=False)


@pytest.mark.usefixtures("default_blob_rate")
@pytest.mark.parametrize(("short", "stalled"), [(0, False), (1, True)], ids=["at-the-rate", "one-byte-short"])
def test_a_blob_keeping_the_readmes_16_kib_per_s_over_60_s_streams_and_one_byte_less_is_stalled(
    short: int, stalled: bool
) -> None:
    found = readme_text.said(r"at least (\d+ KiB)/s over each (\d+) s window")
    rate, window = readme_text.size(found[1]), int(found[2])
    reads = [b"x" * (rate * window - short), b"x" * 10]  # a whole window's bytes, then a few more soon after
    clock = iter([0.0, float(window), window + 0.5])
    stream = http_layer.moving(iter(reads), "get blob org/app@sha256:abc", lambda: next(clock), whole_chunks=False)
    if not stalled:
        assert sum(len(chunk) for chunk in stream) == rate * window - short + 10
        return
    with pytest.raises(TransientError) as given_up:
        list(stream)
    assert str(given_up.value) == (
        f"get blob org/app@sha256:abc: {rate * window - 1} bytes in the last {window} s, slower than "
        f"{rate // 1024} KiB/s: the stream is stalled"
    )


def test_a_blob_rate_of_0_turns_the_minimum_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "0")
    clock = iter(float(i * 600) for i in range(10))
    assert list(http_layer.moving(iter([b"x"]), "get blob", lambda: next(clock))) == [b"x"]


def test_any_other_registry_answer_is_read_up_to_the_64_kib_the_limits_table_states() -> None:
    stated = readme_text.size(readme_text.limit("any other registry answer").removesuffix(" read"))
    assert stated == http_layer.MAX_ANSWER_BYTES
    request = httpx.Request("POST", "https://registry.example/v2/org/app/blobs/uploads/")
    whole = http_layer.bounded(httpx.Response(202, content=b"x" * stated, request=request), stated, "start upload")
    assert len(whole.content) == stated
    with pytest.raises(TooLargeError) as refused:
        http_layer.bounded(httpx.Response(202, content=b"x" * (stated + 1), request=request), stated, "start upload")
    assert str(refused.value) == f"start upload: the answer is larger than {stated} bytes"
    error = http_layer.bounded(httpx.Response(500, content=b"e" * (4 * stated), request=request), stated, "upload")
    assert len(error.content) == stated, "an error's body is cut to the bound, only its start is ever shown"


def _answer(status: int, method: str, path: str, code: str | None = None) -> httpx.Response:
    body = {"errors": [{"code": code, "message": "the registry's words"}]} if code else {}
    return httpx.Response(status, json=body, request=httpx.Request(method, f"https://registry.example{path}"))


@pytest.mark.parametrize(
    ("status", "method", "path", "code", "kind", "line"),
    [
        (
            401,
            "GET",
            "/v2/org/app/manifests/1",
            "UNAUTHORIZED",
            "DeniedError",
            "get manifest at registry.example: 401 UNAUTHORIZED: the registry's words: access denied; check the "
            "credentials for registry.example",
        ),
        (403, "PUT", "/v2/org/app/manifests/1", "DENIED", "DeniedError", None),
        (
            404,
            "PUT",
            "/v2/mycluster/app/manifests/1",
            "NAME_UNKNOWN",
            "NotFoundError",
            "repository/project mycluster/app does not exist at registry.example: create it or use --create-repos "
            "where supported",
        ),
        (404, "GET", "/v2/org/app/manifests/1", "MANIFEST_UNKNOWN", "NotFoundError", None),
        (400, "PUT", "/v2/org/app/manifests/1", "MANIFEST_BLOB_UNKNOWN", "BlobUnknownError", None),
        (400, "PUT", "/v2/org/app/manifests/1", "BLOB_UNKNOWN", "BlobUnknownError", None),
        (400, "PUT", "/v2/org/app/blobs/uploads/x", "DIGEST_INVALID", "RegistryError", None),
        (405, "PUT", "/v2/org/app/manifests/sha256:ab", None, "UnsupportedError", None),
        (400, "GET", "/v2/org/app/tags/list", None, "RegistryError", None),
    ],
    ids=["401", "403", "name-unknown", "404", "manifest-blob-unknown", "blob-unknown", "digest-invalid", "405", "400"],
)
def test_each_unexpected_answer_is_the_error_kind_its_caller_acts_on(
    status: int, method: str, path: str, code: str | None, kind: str, line: str | None
) -> None:
    """README module table: stores answer with error kinds (denied, not found, blob unknown, unsupported: ECR's 405 to
    a referrer pushed by digest), never with HTTP statuses. The denied hint is the registry's own."""
    what = "get manifest" if method == "GET" else "put manifest"
    error = http_layer.error_from(
        _answer(status, method, path, code),
        what,
        "registry.example",
        denied_hint="check the credentials for registry.example",
    )
    assert type(error).__name__ == kind and error.status == status
    if line is not None:
        assert str(error) == line


def test_every_client_of_a_run_keeps_the_runs_first_answer_for_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Security: "every client of a run keeps the run's first answer (one lookup per name a run)". DNS
    is stood in for (socket.getaddrinfo answering differently each time, as a rebinding server would)."""
    import socket

    from provider_helper.transport import GuardedTransport, Resolver

    readme_text.said(r"every client of a run keeps the\s+run's first answer \(one lookup per name a run\)")
    answers = iter(["93.184.216.34", "169.254.169.254"])
    asked: list[str] = []

    def rebinding(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 0))]

    monkeypatch.setattr(http_layer, "RUN_RESOLVER", Resolver())  # this test's run, not the test process's
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with closing(http_layer.client()) as registry, closing(http_layer.client(follow_redirects=True)) as tokens:
        resolvers = [c._transport.resolver for c in (registry, tokens) if isinstance(c._transport, GuardedTransport)]
        assert len(resolvers) == 2
        assert [r.addresses("registry.example") for r in resolvers] == [["93.184.216.34"]] * 2
        assert resolvers[1].internal("registry.example") == [] and asked == ["registry.example"]
