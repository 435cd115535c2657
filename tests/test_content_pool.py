"""provider_helper/content/pool.py: one RegistryClient per host, created on first use with that host's credential,
TLS and retry settings, and shared by every caller after (so its tokens and its used-up limit are shared too).
registry-1.docker.io is read for Docker Hub, and a --source-map mirror for its upstream: their messages name it."""

from __future__ import annotations

import threading

from provider_helper.content.pool import RegistryPool
from provider_helper.oci.reference import DOCKER_HUB, DOCKER_HUB_API
from provider_helper.registry.credentials import CredentialStore
from provider_helper.retry import RetryPolicy


def test_one_client_per_host_made_on_first_use_and_shared_after() -> None:
    pool = RegistryPool(CredentialStore(env={}))
    try:
        got: list[object] = []
        threads = [threading.Thread(target=lambda: got.append(pool.get("registry.example"))) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert len(got) == 8 and all(client is got[0] for client in got)
        assert pool.get("other.example") is not got[0]
    finally:
        pool.close()


def test_docker_hubs_api_host_is_read_for_docker_hub_and_a_mirror_for_its_upstream() -> None:
    pool = RegistryPool(CredentialStore(env={}, upstreams={"harbor.example.com": "ghcr.io"}))
    try:
        assert pool.get(DOCKER_HUB_API).upstream == DOCKER_HUB
        assert pool.get("harbor.example.com").upstream == "ghcr.io"
        assert pool.get("registry.example").upstream is None
    finally:
        pool.close()


def test_each_client_gets_the_pools_retry_policy_and_tls_settings() -> None:
    policy = RetryPolicy(attempts=2)
    pool = RegistryPool(CredentialStore(env={}), insecure=frozenset({"plain.example:5000"}), retry=policy)
    try:
        assert pool.get("registry.example").retry is policy
        insecure = pool.get("plain.example:5000")
        assert insecure._plain_http_fallback, "an --insecure-registry host may fall back to plain HTTP"
        assert not pool.get("registry.example")._plain_http_fallback
        assert pool.get("127.0.0.1:5000").base_url == "http://127.0.0.1:5000"
    finally:
        pool.close()
    assert pool._clients == {}, "closed clients are forgotten"
