"""provider_helper/registry/challenge.py: a registry's WWW-Authenticate challenge and the token scopes a request
needs. Realm, service and scope are taken from the challenge, never assumed (nvcr.io sends no service); reads
(GET, HEAD) ask pull, writes pull,push, and a cross-repository mount also asks pull on the repository it mounts
from."""

from __future__ import annotations

import httpx
import pytest

from provider_helper.registry.challenge import Challenge, parse_challenge, repository_scope, scopes_for


def test_nvcrs_challenge_has_no_service_and_none_is_assumed() -> None:
    challenge = parse_challenge('Bearer realm="https://nvcr.io/proxy_auth",scope="repository:org/app:pull"')
    assert challenge == Challenge("bearer", "https://nvcr.io/proxy_auth", "", "repository:org/app:pull")


def test_docker_hubs_challenge_gives_its_realm_service_and_scope() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nats:pull"'
    )
    assert parse_challenge(header) == Challenge(
        "bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:library/nats:pull"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="Registry Realm"', Challenge("basic", "Registry Realm")),
        (
            "BEARER realm=https://r.example/token, service=r.example",
            Challenge("bearer", "https://r.example/token", "r.example"),
        ),
        ('Negotiate realm="x"', None),
        ("", None),
        (None, None),
    ],
    ids=["basic", "unquoted-upper-case", "another-scheme", "empty", "absent"],
)
def test_each_shape_of_challenge(header: str | None, expected: Challenge | None) -> None:
    assert parse_challenge(header) == expected


@pytest.mark.parametrize(
    ("method", "path", "scopes"),
    [
        ("GET", "/v2/org/team/app/manifests/1.0", ("repository:org/team/app:pull",)),
        ("HEAD", "/v2/org/app/blobs/sha256:ab", ("repository:org/app:pull",)),
        ("GET", "/v2/org/app/tags/list", ("repository:org/app:pull",)),
        ("GET", "/v2/org/app/referrers/sha256:ab", ("repository:org/app:pull",)),
        ("PUT", "/v2/org/app/manifests/1.0", ("repository:org/app:pull,push",)),
        ("POST", "/v2/org/app/blobs/uploads/", ("repository:org/app:pull,push",)),
        ("GET", "/v2/", ()),
    ],
    ids=["get", "head", "tags", "referrers", "put", "post", "ping"],
)
def test_reads_ask_pull_and_writes_pull_push(method: str, path: str, scopes: tuple[str, ...]) -> None:
    assert scopes_for(httpx.Request(method, f"https://registry.example{path}")) == scopes


def test_a_mount_also_asks_pull_on_the_repository_it_mounts_from() -> None:
    request = httpx.Request(
        "POST", "https://registry.example/v2/new/app/blobs/uploads/", params={"mount": "sha256:ab", "from": "old/app"}
    )
    assert scopes_for(request) == ("repository:new/app:pull,push", "repository:old/app:pull")
    assert repository_scope("old/app") == "repository:old/app:pull"
