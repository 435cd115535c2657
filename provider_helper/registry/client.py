"""One registry host spoken to over the OCI distribution API.

Small requests (manifests, HEADs, upload sessions) are retried here; a blob upload streams
from the source, so the copy engine retries it as a whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpx

from provider_helper import envvars, http
from provider_helper.errors import DigestMismatchError, RegistryError, TlsError, TransientError
from provider_helper.refs import is_loopback, is_tag
from provider_helper.registry.auth import RegistryAuth
from provider_helper.registry.credentials import CredentialSource, StaticCredential
from provider_helper.registry.oci import ACCEPT, MAX_MANIFEST_BYTES, OCI_INDEX, Descriptor, Manifest, digest_of
from provider_helper.registry.retry import (
    RETRYABLE_STATUS,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
    tls_failure,
)
from provider_helper.registry.tls import verifying_context

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
MAX_ANSWER_BYTES = 64 * 1024  # anything but a manifest: upload sessions, HEADs, error documents
ANSWER_GRACE = 30.0  # seconds an answer read whole (manifest, listing page, token, index, chart) may take at any rate
MIN_ANSWER_RATE = 1024  # bytes per second on average after that; a slow but moving link is far above it
# A paged listing (tags, referrers) ends within these, or is refused rather than cut short: a
# registry can neither keep a run paging forever nor fill its memory.
MAX_PAGES = 1_000  # at ECR and Distribution's 1000 per page, or Docker Hub's 100: 100,000 entries
MAX_LISTING_BYTES = 16 * 1024 * 1024  # all pages of one listing together: 100,000 tags of 128 characters in JSON
MAX_LISTING_ENTRIES = 100_000


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
    ) -> None:
        """``scheme`` None: plain HTTP for loopback hosts, HTTPS for the rest; an ``insecure`` host gets
        HTTPS without verification, falling back to plain HTTP when it does not speak TLS (as Docker does)."""
        self.host = host
        self.retry = retry or RetryPolicy()
        self._before_manifest_put = before_manifest_put
        plain = is_loopback(host)
        self._plain_http_fallback = insecure and not plain and scheme is None
        verify: Any = False if insecure else verifying_context(ca_file)
        scheme = scheme or ("http" if plain else "https")
        self.base_url = f"{scheme}://{host}"
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._tokens = http.client(verify=verify, follow_redirects=True, transport=transport)
        self.auth = RegistryAuth(host, credentials or StaticCredential(None), self._tokens, plain_realm_ok=plain or insecure,
                                 scheme=scheme)
        self._opened: dict[tuple[str, str], str] = {}  # uploads a refused mount opened, by (repo, digest)
        self._opened_lock = threading.Lock()
        self._referrers_api: bool | None = None  # unknown until the first referrers request
        self._referrers_probe = threading.Lock()
        self._http = http.client(base_url=self.base_url, auth=self.auth, verify=verify, limits=limits, transport=transport)

    def close(self) -> None:
        self._http.close()
        self._tokens.close()

    # -- plumbing ------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, expect: Iterable[int], what: str, max_bytes: int = MAX_ANSWER_BYTES,
              attempts: int | None = None, **kwargs: Any) -> httpx.Response:
        """One request, retried on transient failures; answers outside ``expect`` raise. The body is
        read while streaming and refused past ``max_bytes``."""

        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        follow_redirects = kwargs.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)

        def attempt() -> httpx.Response:
            try:
                request = self._http.build_request(method, url, **kwargs)
                response = bounded(self._http.send(request, stream=True, auth=auth, follow_redirects=follow_redirects), max_bytes, what)
            except httpx.ConnectError as exc:
                failure = tls_failure(exc, self.host)  # not retried: the plain-HTTP fallback of an insecure host needs it now
                if failure is not None:
                    raise failure from None
                raise
            if response.status_code in expect:
                return response
            raise error_from(response, what, self.host)

        policy = self.retry if attempts is None else dataclasses.replace(self.retry, attempts=attempts)
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
        try:
            if authenticate:
                return self._send("GET", "/v2/", expect={200, 401}, what=what)
            return self._send("GET", "/v2/", expect={200, 401}, what=what, auth=None)
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
            "GET", f"/v2/{repo}/manifests/{reference}", expect={200}, headers={"Accept": ACCEPT}, what=f"get manifest {repo}:{reference}",
            max_bytes=MAX_MANIFEST_BYTES,
        )
        data = response.content
        expected = reference if reference.startswith("sha") and ":" in reference else None
        manifest = Manifest.from_bytes(data, response.headers.get("content-type"), expected)
        served = response.headers.get("docker-content-digest")
        if served and served.startswith(manifest.digest.split(":")[0] + ":") and served != manifest.digest:
            raise DigestMismatchError(f"manifest {repo}:{reference}: content hashes to {manifest.digest}, registry says {served}")
        return manifest

    def tags(self, repo: str) -> list[str]:
        """Every tag of ``repo``, following the ``Link`` header from page to page."""
        found: list[str] = []
        url = f"/v2/{repo}/tags/list?n=1000"
        what = f"list tags of {repo}"
        read = 0
        for _ in range(MAX_PAGES):
            response = self._send("GET", url, expect={200}, what=what, max_bytes=MAX_MANIFEST_BYTES)
            read = _within_listing_bound(read, response, what)
            try:
                found += [t for t in response.json().get("tags") or [] if isinstance(t, str) and is_tag(t)]  # a 4 MiB "tag" is none
            except (ValueError, AttributeError):
                raise RegistryError(f"{self.host} answered the tag list of {repo} with something other than a tag list") from None
            next_url = _next_page(response, len(found), what)
            if next_url is None:
                return found
            url = next_url
        raise _endless(what)

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
        found: list[Descriptor] = []
        url = f"/v2/{repo}/referrers/{digest}"
        what = f"list referrers of {repo}@{digest[:19]}"
        read = 0
        for _ in range(MAX_PAGES):
            response = self._send("GET", url, expect={200, 400, 404, 405}, headers={"Accept": OCI_INDEX}, what=what, max_bytes=MAX_MANIFEST_BYTES)
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith(OCI_INDEX):
                self._referrers_api = False
                return None
            self._referrers_api = True
            read = _within_listing_bound(read, response, what)
            found += Manifest.from_bytes(response.content, OCI_INDEX).children
            next_url = _next_page(response, len(found), what)
            if next_url is None:
                return found
            url = next_url
        raise _endless(what)

    def head_manifest(self, repo: str, reference: str) -> str | None:
        """Digest the tag points at, or None where there is no such manifest."""
        response = self._send(
            "HEAD", f"/v2/{repo}/manifests/{reference}", expect={200, 404}, headers={"Accept": ACCEPT}, what=f"head manifest {repo}:{reference}"
        )
        if response.status_code == 404:
            return None
        digest = response.headers.get("docker-content-digest")
        return digest or self.get_manifest(repo, reference).digest

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None:
        if self._before_manifest_put:
            self._before_manifest_put()
        response = self._send(
            "PUT", f"/v2/{repo}/manifests/{reference}", expect={200, 201, 202}, content=manifest.data,
            headers={"Content-Type": manifest.media_type}, what=f"put manifest {repo}:{reference}",
        )
        stored = response.headers.get("docker-content-digest")
        if stored and stored != manifest.digest:
            raise DigestMismatchError(f"{self.host} stored {repo}:{reference} as {stored}, expected {manifest.digest}")

    def has_blob(self, repo: str, digest: str) -> bool:
        response = self._send("HEAD", f"/v2/{repo}/blobs/{digest}", expect={200, 404}, follow_redirects=True, what=f"head blob {repo}@{digest[:19]}")
        return response.status_code == 200

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        """A small blob (a config) in memory, verified."""
        with self.open_blob(repo, digest) as chunks:
            data = bytearray()
            for chunk in chunks:
                data += chunk
                if len(data) > max_bytes:
                    raise RegistryError(f"blob {digest} in {repo} is larger than {max_bytes} bytes")
        if digest_of(bytes(data), digest) != digest:
            raise DigestMismatchError(f"blob {digest} in {self.host}/{repo} does not match its digest")
        return bytes(data)

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        """Stream a blob, following redirects to storage (httpx drops Authorization across hosts)."""
        what = f"get blob {repo}@{digest[:19]}"
        request = self._http.build_request("GET", f"/v2/{repo}/blobs/{digest}")
        response = self._http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code != 200:
                response.read()
                raise error_from(response, what, self.host)
            yield moving(response.iter_bytes(), what)
        finally:
            response.close()

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; False when the registry opened an upload instead (ECR without
        mounting enabled answers 202), which the next ``put_blob`` of this blob uses."""
        response = self._send(
            "POST", f"/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": from_repo}, expect={201, 202},
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
        response = self._send("POST", f"/v2/{repo}/blobs/uploads/", expect={202}, what=f"start upload to {repo}", attempts=1)
        return self._location(response)

    def complete_upload(self, location: str, digest: str, size: int, chunks: Iterable[bytes]) -> None:
        """One streaming PUT carrying the whole blob."""
        url = httpx.URL(location).copy_merge_params({"digest": digest})
        response = self._http.request(
            "PUT", url, content=chunks, headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        )
        if response.status_code not in (201, 204):
            raise error_from(response, f"upload blob {digest[:19]}", self.host)

    def cancel_upload(self, location: str) -> None:
        with contextlib.suppress(httpx.HTTPError, RegistryError):
            self._http.request("DELETE", location)

    def _location(self, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self.host} opened an upload without a Location header")
        url = response.url.join(location)
        if response.url.scheme == "https" and url.scheme != "https":
            raise RegistryError(f"{self.host} sent an upload to {url.scheme}://{url.host}: refusing to leave TLS")
        return str(url)


def moving(received: Iterator[bytes], what: str, clock: Callable[[], float] = time.monotonic) -> Iterator[bytes]:
    """The blob's bytes in ``CHUNK_SIZE`` chunks, as they arrive. A stream that moves fewer than
    NVCF_MIRROR_MIN_BLOB_RATE bytes a second over a whole NVCF_MIRROR_BLOB_RATE_WINDOW is stalled: given up
    (TransientError: the copy retries it from its source). The default, 16 KiB/s over a minute, stops a
    trickle within a minute or two and leaves a slow but moving 10 GB layer alone (7 days at that rate).
    Checked at every network read, not every chunk: a trickle never fills a chunk."""
    min_rate, window = envvars.number("NVCF_MIRROR_MIN_BLOB_RATE"), envvars.number("NVCF_MIRROR_BLOB_RATE_WINDOW")
    pending = bytearray()
    window_start, window_bytes = clock(), 0
    for data in received:
        pending += data
        window_bytes += len(data)
        now = clock()
        if now - window_start >= window:
            if min_rate and window_bytes < min_rate * (now - window_start):
                raise TransientError(f"{what}: {window_bytes} bytes in the last {now - window_start:.0f} s, slower than "
                                     f"{min_rate / 1024:.0f} KiB/s: the stream is stalled")
            window_start, window_bytes = now, 0
        while len(pending) >= CHUNK_SIZE:
            yield bytes(pending[:CHUNK_SIZE])
            del pending[:CHUNK_SIZE]
    if pending:
        yield bytes(pending)


def bounded(response: httpx.Response, max_bytes: int, what: str) -> httpx.Response:
    """``response`` with its body read while streaming: refused past ``max_bytes`` when it is the answer
    asked for, cut to ``MAX_ANSWER_BYTES`` when it is an error (only its start is ever shown). A body
    that arrives slower than ``MIN_ANSWER_RATE`` on average after ``ANSWER_GRACE`` seconds is given up:
    httpx's read timeout starts again with every byte, so a server sending one a second would hold the
    request (and a ``terraform apply``) for as long as it liked."""
    data = bytearray()
    started = time.monotonic()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            elapsed = time.monotonic() - started
            if elapsed > ANSWER_GRACE and len(data) < MIN_ANSWER_RATE * (elapsed - ANSWER_GRACE):
                raise RegistryError(f"{what}: the answer arrives at {len(data) / elapsed:.0f} bytes/s, slower than "
                                    f"{MIN_ANSWER_RATE // 1024} KiB/s after {ANSWER_GRACE:.0f} s; giving up on it")
            if len(data) > max_bytes:
                if response.is_success:
                    raise RegistryError(f"{what}: the answer is larger than {max_bytes} bytes")
                break
    finally:
        response.close()
    return httpx.Response(response.status_code, headers=response.headers, content=bytes(data[:max_bytes]), request=response.request)


def error_from(response: httpx.Response, what: str, host: str) -> RegistryError:
    """Turn an unexpected answer into an error that says what failed, where, and why."""
    status = response.status_code
    code, message = _registry_error(response)
    detail = f"{code}: {message}" if code else (message or response.reason_phrase)
    text = f"{what} at {host}: {status} {detail}".rstrip()
    if status in RETRYABLE_STATUS:
        return TransientError(text, status=status, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status in (401, 403):
        return RegistryError(f"{text}: access denied; check the credentials for {host}", status=status, code=code)
    if code == "NAME_UNKNOWN" and response.request.method in ("POST", "PUT", "PATCH"):
        repo = response.request.url.path.removeprefix("/v2/").split("/blobs/")[0].split("/manifests/")[0]
        return RegistryError(
            f"repository/project {repo} does not exist at {host}: create it or use --create-repos where supported",
            status=status, code=code,
        )
    return RegistryError(text, status=status, code=code)


def _registry_error(response: httpx.Response) -> tuple[str | None, str]:
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError, httpx.ResponseNotRead):
        first = response.json()["errors"][0]
        return first.get("code"), str(first.get("message", ""))[:200]
    return None, ""


def _next_page(response: httpx.Response, listed: int, what: str) -> str | None:
    """The next page of a listing that has ``listed`` entries so far, or None at its end."""
    if listed > MAX_LISTING_ENTRIES:
        raise RegistryError(f"{what}: more than {MAX_LISTING_ENTRIES} entries; refusing a listing that does not end")
    return _next_link(response)


def _within_listing_bound(read: int, page: httpx.Response, what: str) -> int:
    """The bytes of a listing read so far, with ``page``; a listing past ``MAX_LISTING_BYTES`` is refused,
    so pages of huge entries cannot fill memory before the page or entry bound is reached."""
    read += len(page.content)
    if read > MAX_LISTING_BYTES:
        raise RegistryError(f"{what}: more than {MAX_LISTING_BYTES // (1024 * 1024)} MiB; refusing a listing that large")
    return read


def _endless(what: str) -> RegistryError:
    return RegistryError(f"{what}: more than {MAX_PAGES} pages; refusing a listing that does not end")


def _next_link(response: httpx.Response) -> str | None:
    """The next page of a paged listing (``Link: </v2/...?last=x&n=1000>; rel="next"``), on the same registry only."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    url = response.url.join(link)
    return url.raw_path.decode() if url.host == response.url.host and url.port == response.url.port else None
