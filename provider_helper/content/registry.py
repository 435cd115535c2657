"""One registry host spoken to over the OCI distribution API.

Small requests (manifests, HEADs, upload sessions) are retried here; a blob upload streams
from the source, so the copy engine retries it as a whole.
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
from provider_helper.content.store import Retrying, Store
from provider_helper.errors import (
    DigestMismatchError,
    RateLimitError,
    RegistryError,
    TlsError,
    TransientError,
    UnsupportedError,
)
from provider_helper.http import MAX_ANSWER_BYTES, Page, bounded, moving, pages, same_registry_link
from provider_helper.oci.digests import read_verified
from provider_helper.oci.limits import MAX_MANIFEST_BYTES
from provider_helper.oci.manifest import ACCEPT, OCI_INDEX, Descriptor, Manifest
from provider_helper.oci.reference import DOCKER_HUB, is_loopback, is_tag
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
from provider_helper.transport import named_by
from provider_helper.wording import setting

log = logging.getLogger(__name__)


class RegistryClient:
    """Typed calls for one registry; thread-safe, one connection pool shared by all callers."""

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
                failure = tls_failure(
                    exc, self.host
                )  # not retried: the plain-HTTP fallback of an insecure host needs it now
                if failure is not None:
                    raise failure from None
                raise
            except httpx.TransportError:
                raise  # retried, then named by call_with_retries
            except (
                httpx.HTTPError
            ) as exc:  # too many redirects, an undecodable body: an answer, not a connection failure
                raise RegistryError(f"{what} at {self.host}: {describe(exc)}") from None
            if response.status_code in expect:
                return response
            raise self._error(response, what)

        policy = policy or (self.retry if attempts is None else dataclasses.replace(self.retry, attempts=attempts))
        return call_with_retries(attempt, policy, what)

    # -- the API ---------------------------------------------------------------------------

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

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        response = self._send(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            expect={200},
            headers={"Accept": ACCEPT},
            what=f"get manifest {repo}:{reference}",
            max_bytes=MAX_MANIFEST_BYTES,
        )
        data = response.content
        expected = reference if reference.startswith("sha") and ":" in reference else None
        manifest = Manifest.from_bytes(data, response.headers.get("content-type"), expected)
        served = response.headers.get("docker-content-digest")
        if served and served.startswith(manifest.digest.split(":")[0] + ":") and served != manifest.digest:
            raise DigestMismatchError(
                f"manifest {repo}:{reference}: content hashes to {manifest.digest}, registry says {served}"
            )
        return manifest

    def tags(self, repo: str) -> list[str]:
        """Every tag of ``repo``, following the ``Link`` header from page to page."""
        what = f"list tags of {repo}"

        def fetch(url: str) -> Page[str, list[str]]:
            response = self._send("GET", url, expect={200}, what=what, max_bytes=MAX_MANIFEST_BYTES)
            try:
                tags = [
                    t for t in response.json().get("tags") or [] if isinstance(t, str) and is_tag(t)
                ]  # a 4 MiB "tag" is none
            except (ValueError, AttributeError):
                raise RegistryError(
                    f"{self.host} answered the tag list of {repo} with something other than a tag list"
                ) from None
            return Page(tags, len(response.content), len(tags), same_registry_link(response))

        return [tag for page in pages(fetch, f"/v2/{repo}/tags/list?n=1000", what) for tag in page]

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        """The manifests whose ``subject`` is ``digest`` (OCI 1.1 referrers API), or None where the
        registry has no such API. The first answer that is not a listing marks the registry as
        lacking it, so a registry without the API costs one request per run."""
        if self._referrers_api is None:
            with self._referrers_probe:  # the first request tells; concurrent callers wait for it
                if self._referrers_api is None:
                    return self._list_referrers(repo, digest)
        return self._list_referrers(repo, digest) if self._referrers_api else None

    def _list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        what = f"list referrers of {repo}@{digest[:19]}"

        def fetch(url: str) -> Page[str, list[Descriptor] | None]:
            response = self._send(
                "GET",
                url,
                expect={200, 400, 404, 405},
                headers={"Accept": OCI_INDEX},
                what=what,
                max_bytes=MAX_MANIFEST_BYTES,
            )
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith(OCI_INDEX):
                return Page(None, 0, 0, None)  # not a listing: the registry lacks the API
            children = list(Manifest.from_bytes(response.content, OCI_INDEX).children)
            return Page(children, len(response.content), len(children), same_registry_link(response))

        found: list[Descriptor] = []
        for page in pages(fetch, f"/v2/{repo}/referrers/{digest}", what):
            self._referrers_api = page is not None
            if page is None:
                return None
            found += page
        return found

    def head_manifest(self, repo: str, reference: str) -> str | None:
        """Digest the tag points at, or None where there is no such manifest."""
        response = self._send(
            "HEAD",
            f"/v2/{repo}/manifests/{reference}",
            expect={200, 404},
            headers={"Accept": ACCEPT},
            what=f"head manifest {repo}:{reference}",
        )
        if response.status_code == 404:
            return None
        digest = response.headers.get("docker-content-digest")
        return digest or self.get_manifest(repo, reference).digest

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None:
        if self._before_manifest_put:
            self._before_manifest_put()
        response = self._send(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            expect={200, 201, 202},
            content=manifest.data,
            headers={"Content-Type": manifest.media_type},
            what=f"put manifest {repo}:{reference}",
        )
        stored = response.headers.get("docker-content-digest")
        if stored and stored != manifest.digest:
            raise DigestMismatchError(f"{self.host} stored {repo}:{reference} as {stored}, expected {manifest.digest}")

    def delete_manifest(self, repo: str, digest: str) -> None:
        """DELETE a manifest by digest (Distribution removes every tag naming it); gone already is done.
        A registry that does not delete (Distribution without ``storage.delete.enabled``: 405
        UNSUPPORTED) raises UnsupportedError."""
        what = f"delete manifest {repo}@{digest[:19]}"
        try:
            self._send("DELETE", f"/v2/{repo}/manifests/{digest}", expect={200, 202, 404}, what=what)
        except RegistryError as exc:
            if exc.code == "UNSUPPORTED" and not isinstance(exc, UnsupportedError):
                raise UnsupportedError(str(exc), status=exc.status, code=exc.code) from None
            raise

    def has_blob(self, repo: str, digest: str) -> bool:
        response = self._send(
            "HEAD",
            f"/v2/{repo}/blobs/{digest}",
            expect={200, 404},
            follow_redirects=True,
            what=f"head blob {repo}@{digest[:19]}",
        )
        return response.status_code == 200

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        """A small blob (a config) in memory, verified."""
        with self.open_blob(repo, digest) as chunks:
            return read_verified(chunks, digest, max_bytes, f"blob {digest} in {self.host}/{repo}")

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        """Stream a blob, following redirects to storage (httpx drops Authorization across hosts). A
        connection that fails is an error kind (``UnreachableError``, worth another try), not httpx's."""
        what = f"get blob {repo}@{digest[:19]}"
        self._check_limit(what)
        with _transport_errors(what):
            request = self._http.build_request("GET", f"/v2/{repo}/blobs/{digest}")
            response = self._http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code != 200:
                raise self._error(bounded(response, MAX_ANSWER_BYTES, what), what)
            yield _failures_as_kinds(moving(response.iter_bytes(), what), what)
        finally:
            response.close()

    @contextlib.contextmanager
    def open_blob_from(self, repo: str, digest: str, offset: int) -> Iterator[tuple[int, Iterator[bytes]]]:
        """A blob's bytes from ``offset`` on (``Range: bytes=offset-``), and where they start: ``offset``
        when the registry answered 206 for exactly that range, 0 when it ignored the range (200: the
        whole blob). Unverified, like ``open_blob``: the caller hashes what it already holds first."""
        what = f"get blob {repo}@{digest[:19]} from byte {offset}"
        with _transport_errors(what):
            range_ = {"Range": f"bytes={offset}-"}
            request = self._http.build_request("GET", f"/v2/{repo}/blobs/{digest}", headers=range_)
            response = self._http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code == 206:
                served = response.headers.get("content-range", "")
                if not served.startswith(f"bytes {offset}-"):
                    raise RegistryError(
                        f"{what} at {self.host}: asked for bytes {offset}- and got the range {served[:60]!r}"
                    )
                start = offset
            elif response.status_code == 200:
                start = 0
            else:
                raise self._error(bounded(response, MAX_ANSWER_BYTES, what), what)
            yield start, _failures_as_kinds(moving(response.iter_bytes(), what), what)
        finally:
            response.close()

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; False when the registry opened an upload instead (ECR without
        mounting enabled answers 202), which the next ``put_blob`` of this blob uses."""
        response = self._send(
            "POST",
            f"/v2/{repo}/blobs/uploads/",
            params={"mount": digest, "from": from_repo},
            expect={201, 202},
            what=f"mount blob into {repo}",
        )
        if response.status_code == 201:
            return True
        with self._opened_lock:
            self._opened[(repo, digest)] = self._location(response)
        return False

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        """Upload a blob in two requests, POST then one streaming PUT (ECR drops data past a first PATCH).
        One attempt: the copy engine retries a blob as a whole, from its source."""
        with self._opened_lock:
            location = self._opened.pop((repo, blob.digest), None)
        location = location or self.start_upload(repo)
        try:
            self.complete_upload(location, blob.digest, blob.size, chunks)
        except BaseException:
            self.cancel_upload(location)
            raise

    def start_upload(self, repo: str) -> str:
        """Open an upload session. Not retried here: it is one step of a blob copy, which the copy
        engine retries as a whole (from the source), so retries never multiply."""
        response = self._send(
            "POST", f"/v2/{repo}/blobs/uploads/", expect={202}, what=f"start upload to {repo}", attempts=1
        )
        return self._location(response)

    def complete_upload(self, location: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        """One streaming PUT carrying the whole blob."""
        url = httpx.URL(location).copy_merge_params({"digest": digest})
        what = f"upload blob {digest[:19]}"
        with _transport_errors(what):
            request = self._http.build_request(
                "PUT",
                url,
                content=chunks,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                extensions=named_by("upload Location", self.base_url),
            )
            response = bounded(self._http.send(request, stream=True), MAX_ANSWER_BYTES, what)
        if response.status_code not in (201, 204):
            raise self._error(response, what)

    def cancel_upload(self, location: str) -> None:
        with contextlib.suppress(httpx.HTTPError, RegistryError):
            request = self._http.build_request(
                "DELETE", location, extensions=named_by("upload Location", self.base_url)
            )
            bounded(self._http.send(request, stream=True), MAX_ANSWER_BYTES, "cancel upload")

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
        reason = (
            f"{named}'s pull rate limit is used up{_limit_words(limit, response.headers.get('ratelimit-remaining'))}: {login} "
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
def _transport_errors(what: str) -> Iterator[None]:
    """httpx's connection failures as the error kinds callers act on (the copy engine retries them)."""
    try:
        yield
    except httpx.TransportError as exc:
        raise transport_failure(exc, what) from None


def _failures_as_kinds(chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    with _transport_errors(what):
        yield from chunks


_CHECKED: tuple[type[Store], type[Retrying]] = (RegistryClient, RegistryClient)  # mypy checks the class against both
