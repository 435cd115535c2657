"""Unit tests of provider_helper/origin.py: where credentials may go."""

from __future__ import annotations

import httpx
import pytest


def test_credentials_go_only_over_tls_or_where_plain_http_is_allowed() -> None:
    from provider_helper.origin import OriginPolicy

    policy = OriginPolicy(frozenset({"harbor.internal:8080"}))
    assert policy.may_send_credentials(httpx.URL("https://helm.ngc.nvidia.com/nvidia/index.yaml"))
    assert not policy.may_send_credentials(httpx.URL("http://helm.ngc.nvidia.com/nvidia/charts/x.tgz"))
    assert policy.may_send_credentials(httpx.URL("http://harbor.internal:8080/v2/")) and policy.may_send_credentials(
        httpx.URL("http://127.0.0.2:5000/")
    )
    assert not policy.may_send_credentials(httpx.URL("http://harbor.internal:8081/v2/"))


def _redirect(source: str, location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"location": location}, request=httpx.Request("GET", source))


def test_a_redirect_out_of_tls_is_refused_with_one_line_naming_both_ends() -> None:
    """README Security: "A redirect never takes an https request to plain http"; "A refused URL is one line naming
    both ends" (user:password and the query left out)."""
    from provider_helper.errors import PolicyError
    from provider_helper.origin import check_redirect

    refused = _redirect(
        "https://user:pw@registry.example:8443/v2/x/blobs/sha256:a?sig=1", "http://storage.example/b?X=1"
    )
    with pytest.raises(PolicyError) as stopped:
        check_redirect(refused)
    assert str(stopped.value) == (
        "refusing the redirect from https://registry.example:8443 to http://storage.example/b: it leaves TLS"
    )
    with pytest.raises(PolicyError) as bad:
        check_redirect(_redirect("https://registry.example/v2/", "https://[::1"))
    assert str(bad.value) == "https://registry.example/v2/ redirected to an invalid URL"


def test_a_redirect_that_stays_on_tls_or_starts_in_plain_http_is_marked_with_who_named_it() -> None:
    """Where it may go is judged where it connects (transport.py), on the address: here it is marked with the
    server that named it."""
    from provider_helper.origin import check_redirect
    from provider_helper.transport import NAMED_BY

    for source, location in (
        ("https://registry.example/v2/x", "https://storage.example/blob"),
        ("https://registry.example/v2/x", "/elsewhere"),
        ("http://127.0.0.1:5000/v2/x", "http://127.0.0.1:5001/blob"),
    ):
        response = _redirect(source, location)
        check_redirect(response)
        assert response.request.extensions[NAMED_BY] == ("redirect", origin_of(source)), source
    answered = httpx.Response(200, request=httpx.Request("GET", "https://registry.example/v2/"))
    check_redirect(answered)
    assert NAMED_BY not in answered.request.extensions, "no redirect, nothing to mark"


def origin_of(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def test_authority_is_host_and_port_as_auth_files_name_it() -> None:
    from provider_helper.origin import OriginPolicy, authority, origin

    assert authority(httpx.URL("https://registry.example/v2/")) == "registry.example"
    assert authority(httpx.URL("https://registry.example:443/v2/")) == "registry.example", "the default port left out"
    assert authority(httpx.URL("http://[::1]:5000/v2/")) == "[::1]:5000"
    assert origin(httpx.URL("https://h.example:8443/a?b")) == "https://h.example:8443"
    policy = OriginPolicy(frozenset({"harbor.internal"}))
    assert policy.plain_http_allowed(httpx.URL("http://harbor.internal:8080/")), "a host named without its port"
    assert policy.plain_http_allowed(httpx.URL("http://localhost:5000/"))
    assert not policy.plain_http_allowed(httpx.URL("http://harbor.example/"))
