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
