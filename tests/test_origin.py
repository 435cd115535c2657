"""Unit tests of provider_helper/origin.py: where credentials may go."""

from __future__ import annotations

import httpx


def test_credentials_go_only_over_tls_or_where_plain_http_is_allowed() -> None:
    from provider_helper.origin import OriginPolicy

    policy = OriginPolicy(frozenset({"harbor.internal:8080"}))
    assert policy.may_send_credentials(httpx.URL("https://helm.ngc.nvidia.com/nvidia/index.yaml"))
    assert not policy.may_send_credentials(httpx.URL("http://helm.ngc.nvidia.com/nvidia/charts/x.tgz"))
    assert policy.may_send_credentials(httpx.URL("http://harbor.internal:8080/v2/")) and policy.may_send_credentials(
        httpx.URL("http://127.0.0.2:5000/")
    )
    assert not policy.may_send_credentials(httpx.URL("http://harbor.internal:8081/v2/"))
