"""The connection to one registry host: the client, the auth flow, one request retried on transient
failures, the plain-HTTP fallback of an ``--insecure-registry`` host, and a registry's answers turned into
error kinds (a used-up pull rate limit among them). The registry store (``content.registry``) and its blob
calls (``content.registry_blobs``) stand on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpx

from provider_helper import http
from provider_helper.errors import RateLimitError, RegistryError, TlsError, TransientError
from provider_helper.http import MAX_ANSWER_BYTES, bounded
from provider_helper.oci.reference import DOCKER_HUB, is_loopback
from provider_helper.registry.auth import RegistryAuth
from provider_helper.registry.credentials import CredentialSource, StaticCredential
from provider_helper.registry.tls import verifying_context
from provider_helper.retry import (
    RetryPolicy,
    call_with_retries,
    describe,
    parse_retry_after,
    tls_failure,
    transport_failure,
)
from provider_helper.wording import setting

log = logging.getLogger(__name__)


class RegistryConnection:
    """One registry host's connection pool and request plumbing; thread-safe, shared by all callers."""

    def __init__(
        self,
        host: str,
        *,
        credentials: CredentialSource | None = None,
        insecure: bool = False,
        ca_file: str | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = 32,
        before_manifest_put: Callable[[], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        scheme: str | None = None,
        upstream: str | None = None,
    ) -> None:
        """``scheme`` None: plain HTTP for loopback hosts, HTTPS for the rest; an ``insecure`` host gets
        HTTPS without verification, falling back to plain HTTP when it does not speak TLS (as Docker does).
        ``upstream``: the registry this host is read for (``docker.io`` for Docker Hub or its mirror), for messages."""
        self.host = host
        self.upstream = upstream
        self._limited: str | None = None  # why a pull limit is used up: later requests are not sent
        self.retry = retry or RetryPolicy()
        self._before_manifest_put = before_manifest_put
        plain = is_loopback(host)
        self._plain_http_fallback = insecure and not plain and scheme is None
        verify: Any = False if insecure else verifying_context(ca_file)
        scheme = scheme or ("http" if plain else "https")
        self.base_url = f"{scheme}://{host}"
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._tokens = http.client(verify=verify, follow_redirects=True, transport=transport)
        self.auth = RegistryAuth(
            host, credentials or StaticCredential(None), self._tokens, plain_realm_ok=plain or insecure, scheme=scheme
        )
        self._opened: dict[tuple[str, str], str] = {}  # uploads a refused mount opened, by (repo, digest)
        self._opened_lock = threading.Lock()
        self._referrers_api: bool | None = None  # unknown until the first referrers request
        self._referrers_probe = threading.Lock()
        self._http = http.client(
            base_url=self.base_url, auth=self.auth, verify=verify, limits=limits, transport=transport
        )

    def close(self) -> None:
        self._http.close()
        self._tokens.close()

    # -- plumbing ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        expect: Iterable[int],
        what: str,
        max_bytes: int = MAX_ANSWER_BYTES,
        attempts: int | None = None,
        policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, retried on transient failures; answers outside ``expect`` raise. The body is
        read while streaming and refused past ``max_bytes``."""

        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        follow_redirects = kwargs.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)

        def attempt() -> httpx.Response:
            self._check_limit(what)
            try:
                request = self._http.build_request(method, url, **kwargs)
                response = bounded(
                    self._http.send(request, stream=True, auth=auth, follow_redirects=follow_redirects), max_bytes, what
                )
            except httpx.ConnectError as exc:
                # not retried: the plain-HTTP fallback of an insecure host needs it now
                failure = tls_failure(exc, self.host)
                if failure is not None:
                    raise failure from None
                raise
            except httpx.TransportError:
                raise  # retried, then named by call_with_retries
            # too many redirects, an undecodable body: an answer, not a connection failure
            except httpx.HTTPError as exc:
                raise RegistryError(f"{what} at {self.host}: {describe(exc)}") from None
            if response.status_code in expect:
                return response
            raise self._error(response, what)

        policy = policy or (self.retry if attempts is None else dataclasses.replace(self.retry, attempts=attempts))
        return call_with_retries(attempt, policy, what)

    # -- the first call -------------------------------------------------------------------

    def ping(self, scopes: Sequence[str] = ()) -> bool:
        """Check the registry answers and accepts our credentials (AuthenticationError if not).

        False when it wants credentials we do not have. ``scopes`` are the repositories a run will
        read: a token registry then checks the credentials by granting one token for all of them,
        which saves a round trip here and a token request per repository later."""
        response = self._ping_request(authenticate=False)
        if response.status_code == 200:
            return True
        challenge = self.auth.learn(response)
        if challenge is not None and challenge.scheme == "bearer" and scopes and self.auth.prefetch(scopes):
            return True
        return self._ping_request(authenticate=True).status_code == 200

    def _ping_request(self, authenticate: bool) -> httpx.Response:
        """GET /v2/, with the auth flow or without; for an ``--insecure-registry`` host that does not
        speak TLS, the first one switches the client to plain HTTP."""
        what = f"ping {self.host}"
        brief = self.retry.brief()  # a user waits on it: "cannot reach" within seconds
        try:
            if authenticate:
                return self._send("GET", "/v2/", expect={200, 401}, what=what, policy=brief)
            return self._send("GET", "/v2/", expect={200, 401}, what=what, auth=None, policy=brief)
        except TlsError:
            if not self._plain_http_fallback:
                raise
            log.debug("%s does not speak TLS; using plain HTTP (--insecure-registry)", self.host)
            self._plain_http_fallback = False
            self.base_url = f"http://{self.host}"
            self._http.base_url = httpx.URL(self.base_url)
            self.auth.scheme = "http"
            return self._ping_request(authenticate)

    def _error(self, response: httpx.Response, what: str) -> RegistryError:
        limited = self._pull_limit(response, what)
        if limited is not None:
            return limited
        return http.error_from(response, what, self.host, denied_hint=f"check the credentials for {self.host}")

    def _pull_limit(self, response: httpx.Response, what: str) -> RegistryError | None:
        """A 429 that says a pull rate limit is used up (Docker Hub's ``TOOMANYREQUESTS`` with ``ratelimit-limit:
        100;w=21600``) as one line naming the registry, the limit, its window and what to do. Retried only
        where the registry says when (Retry-After) and that is within the retry policy's wait; otherwise
        not retried, and the client sends no more requests this run (a retry storm would not end sooner)."""
        if response.status_code != 429 or response.request.method not in ("GET", "HEAD"):
            return None  # ECR's PutImage quota (429 TOOMANYREQUESTS on a write) is a short wait, retried as usual
        limit = response.headers.get("ratelimit-limit")
        code = None
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError, AttributeError):
            code = response.json()["errors"][0].get("code")
        upstream = self.upstream or self.host
        if not limit and not (code == "TOOMANYREQUESTS" and upstream == DOCKER_HUB):
            return None
        named = "Docker Hub" if upstream == DOCKER_HUB else upstream
        where = f"{self.host} ({named})" if self.upstream and named != self.host else self.host
        login = (
            "log in to Docker Hub (docker login, the auth-file entry https://index.docker.io/v1/)"
            if upstream == DOCKER_HUB
            else f"log in to {upstream}"
        )
        words = _limit_words(limit, response.headers.get("ratelimit-remaining"))
        reason = (
            f"{named}'s pull rate limit is used up{words}: {login} "
            f"for a higher limit, or read it through a mirror with {setting('source_map')} {upstream}=MIRROR"
        )
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None and retry_after <= self.retry.max_retry_after:
            return TransientError(f"{what} at {where}: {reason}", status=429, retry_after=retry_after)
        self._limited = reason
        return RateLimitError(f"{what} at {where}: {reason}", status=429, code=code)

    def _check_limit(self, what: str) -> None:
        if self._limited is not None:
            raise RateLimitError(f"{what} at {self.host}: not asked, {self._limited}", status=429)

    def _location(self, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self.host} opened an upload without a Location header")
        url = response.url.join(location)
        if response.url.scheme == "https" and url.scheme != "https":
            raise RegistryError(f"{self.host} sent an upload to {url.scheme}://{url.host}: refusing to leave TLS")
        return str(url)


def _limit_words(limit: str | None, remaining: str | None) -> str:
    """``100;w=21600`` as " (100 pulls per 6 h, 0 left)"; empty when the registry sent no such header."""
    if not limit:
        return ""
    count, _, rest = limit.partition(";")
    window = rest.strip().removeprefix("w=")
    per = (
        f" per {int(window) / 3600:g} h"
        if window.isdigit() and int(window) % 360 == 0
        else f" per {window} s"
        if window.isdigit()
        else ""
    )
    left = f", {remaining.partition(';')[0].strip()} left" if remaining else ""
    return f" ({count.strip()} pulls{per}{left})"


@contextlib.contextmanager
def transport_errors(what: str) -> Iterator[None]:
    """httpx's connection failures as the error kinds callers act on (the copy engine retries them)."""
    try:
        yield
    except httpx.TransportError as exc:
        raise transport_failure(exc, what) from None


def failures_as_kinds(chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    with transport_errors(what):
        yield from chunks
