"""Unit tests of provider_helper/http.py: the redirect policy of its client, blob bytes in whole chunks."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest

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
