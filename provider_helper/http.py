"""The HTTP layer's common part: how clients are built and answers are read, for every server.

- ``client``: registries, token services, Helm repositories, the NGC API and storage all get the same
  timeouts, TLS settings, proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``; never for a
  loopback host), ``User-Agent: nvcf-mirror/<version>``, the address policy of ``transport`` and the
  redirect rules of ``origin``.
- ``bounded``: an answer read whole, within its byte bound and a minimum rate after a grace period.
- ``moving``: a blob stream, given up when it stalls.
- ``pages``: a paged listing (registry tags and referrers, NGC versions and files), bounded by pages,
  entries and bytes in all.
- ``error_from``: an unexpected answer as the error kind callers act on (``errors.NotFoundError``, …).

Retries are not here: a single request is retried by its caller's one retry layer
(``retry.call_with_retries``), never by two nested ones.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from provider_helper import __version__, envvars
from provider_helper import transport as transport_mod
from provider_helper.errors import (
    BlobUnknownError,
    DeniedError,
    NotFoundError,
    RegistryError,
    TooLargeError,
    TransientError,
    UnsupportedError,
)
from provider_helper.origin import check_redirect
from provider_helper.retry import RETRYABLE_STATUS, parse_retry_after
from provider_helper.wording import setting

TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=300.0, pool=None)
CHUNK_SIZE = 1024 * 1024
MAX_ANSWER_BYTES = 64 * 1024  # an answer that is not content: upload sessions, HEADs, error documents
ANSWER_GRACE = 30.0  # seconds an answer read whole (manifest, listing page, token, index, chart) may take at any rate
MIN_ANSWER_RATE = 1024  # bytes per second on average after that; a slow but moving link is far above it
# A paged listing ends within these, or is refused rather than cut short: a server can neither keep a
# run paging forever nor fill its memory.
MAX_PAGES = 1_000  # at ECR and Distribution's 1000 per page, or Docker Hub's 100: 100,000 entries
MAX_LISTING_BYTES = 16 * 1024 * 1024  # all pages of one listing together: 100,000 tags of 128 characters in JSON
MAX_LISTING_ENTRIES = 100_000
# Answers to a manifest PUT that mean "a blob you reference is not (readably) there". Distribution
# gives them while another writer is linking the same blob into the repository at that moment (it
# reads the half-written link file); the copy engine checks the blobs again and retries.
BLOB_REFERENCE_CODES = frozenset({"MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "DIGEST_INVALID"})
Cursor = TypeVar("Cursor")
Body = TypeVar("Body")


def user_agent() -> str:
    """The package's own version (what ``--version`` prints, the one pyproject.toml gives): reading the
    installed distribution's metadata instead costs every run the import of importlib.metadata."""
    version = __version__
    return f"nvcf-mirror/{version}"


# The run's one resolver: every client that is not given its own keeps the run's first answer for a name
# (the policy checks the address connected to, and no client of the run can be handed a second answer).
RUN_RESOLVER = transport_mod.Resolver()


def client(
    *,
    verify: Any = True,
    base_url: str = "",
    auth: httpx.Auth | None = None,
    limits: httpx.Limits | None = None,
    transport: httpx.BaseTransport | None = None,
    follow_redirects: bool = False,
    timeout: httpx.Timeout = TIMEOUT,
    resolver: transport_mod.Resolver | None = None,
) -> httpx.Client:
    """An httpx client with the tool's defaults; ``verify`` is an ``ssl.SSLContext`` (``registry.tls``) or False.
    Every request goes through ``transport.GuardedTransport`` (the address policy, pinned resolution, proxies
    but not for loopback, the answer-head clock); every redirect passes the origin policy before it is
    followed. ``transport``: what the guarded transport sends through instead of the network (a fault
    a real server cannot produce), with no proxy."""
    resolver = resolver or RUN_RESOLVER
    limits = limits or httpx.Limits()
    if transport is None:
        direct: httpx.BaseTransport = transport_mod.direct_transport(resolver, verify=verify, limits=limits)

        def proxied(proxy: str) -> httpx.BaseTransport:
            return transport_mod.direct_transport(resolver, verify=verify, limits=limits, proxy=proxy)

        guarded = transport_mod.GuardedTransport(resolver, direct, proxied, _answer_limits)
    else:
        guarded = transport_mod.GuardedTransport(resolver, transport, None, _answer_limits)
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        verify=verify,
        timeout=timeout,
        limits=limits,
        transport=guarded,
        follow_redirects=follow_redirects,
        headers={"User-Agent": user_agent()},
        event_hooks={"response": [check_redirect]},
    )


def _answer_limits() -> tuple[float, float]:
    return ANSWER_GRACE, MIN_ANSWER_RATE


def moving(
    received: Iterator[bytes], what: str, clock: Callable[[], float] = time.monotonic, *, whole_chunks: bool = True
) -> Iterator[bytes]:
    """The blob's bytes in ``CHUNK_SIZE`` chunks, as they arrive. A stream that moves fewer than
    NVCF_MIRROR_MIN_BLOB_RATE bytes a second over a whole NVCF_MIRROR_BLOB_RATE_WINDOW is stalled: given up
    (TransientError: the copy retries it from its source). The default, 16 KiB/s over a minute, stops a
    trickle within a minute or two and leaves a slow but moving 10 GB layer alone (7 days at that rate).
    Checked at every network read, not every chunk: a trickle never fills a chunk. ``whole_chunks`` False
    passes each read on as it arrives (a download that resumes after a drop keeps every byte received)."""
    min_rate, window = envvars.number("NVCF_MIRROR_MIN_BLOB_RATE"), envvars.number("NVCF_MIRROR_BLOB_RATE_WINDOW")
    pending = bytearray()
    window_start, window_bytes = clock(), 0
    for data in received:
        pending += data
        window_bytes += len(data)
        now = clock()
        if now - window_start >= window:
            if min_rate and window_bytes < min_rate * (now - window_start):
                raise TransientError(
                    f"{what}: {window_bytes} bytes in the last {now - window_start:.0f} s, slower than "
                    f"{min_rate / 1024:.0f} KiB/s: the stream is stalled"
                )
            window_start, window_bytes = now, 0
        if not whole_chunks:
            yield bytes(pending)
            pending.clear()
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
    started = response.extensions.get(transport_mod.ANSWER_STARTED) or time.monotonic()  # one clock with the head
    try:
        for chunk in response.iter_bytes():
            data += chunk
            elapsed = time.monotonic() - started
            if elapsed > ANSWER_GRACE and len(data) < MIN_ANSWER_RATE * (elapsed - ANSWER_GRACE):
                raise RegistryError(
                    f"{what}: the answer arrives at {len(data) / elapsed:.0f} bytes/s, slower than "
                    f"{MIN_ANSWER_RATE // 1024} KiB/s after {ANSWER_GRACE:.0f} s; giving up on it"
                )
            if len(data) > max_bytes:
                if response.is_success:
                    raise TooLargeError(f"{what}: the answer is larger than {max_bytes} bytes")
                break
    finally:
        response.close()
    return httpx.Response(
        response.status_code, headers=response.headers, content=bytes(data[:max_bytes]), request=response.request
    )


def error_from(response: httpx.Response, what: str, host: str, *, denied_hint: str | None = None) -> RegistryError:
    """An unexpected answer as the error kind its caller acts on, saying what failed, where and why.
    ``denied_hint``: what a user can do about a 401 or 403 here (the registry: check its credentials)."""
    status = response.status_code
    code, message = _registry_error(response)
    detail = f"{code}: {message}" if code else (message or response.reason_phrase)
    text = f"{what} at {host}: {status} {detail}".rstrip()
    writing = response.request.method in ("POST", "PUT", "PATCH")
    if status in RETRYABLE_STATUS:
        return TransientError(text, status=status, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status in (401, 403):
        return DeniedError(
            f"{text}: access denied{f'; {denied_hint}' if denied_hint else ''}", status=status, code=code
        )
    if code == "NAME_UNKNOWN" and writing:
        repo = response.request.url.path.removeprefix("/v2/").split("/blobs/")[0].split("/manifests/")[0]
        return NotFoundError(
            f"repository/project {repo} does not exist at {host}: "
            f"create it or use {setting('create_repos')} where supported",
            status=status,
            code=code,
        )
    if code in BLOB_REFERENCE_CODES and writing and "/manifests/" in response.request.url.path:
        return BlobUnknownError(text, status=status, code=code)
    if status == 404:
        return NotFoundError(text, status=status, code=code)
    if status == 405:
        return UnsupportedError(text, status=status, code=code)
    return RegistryError(text, status=status, code=code)


def _registry_error(response: httpx.Response) -> tuple[str | None, str]:
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError, httpx.ResponseNotRead):
        first = response.json()["errors"][0]
        return first.get("code"), str(first.get("message", ""))[:200]
    return None, ""


@dataclass(frozen=True)
class Page(Generic[Cursor, Body]):
    """One page of a listing as its reader saw it."""

    body: Body
    size: int  # bytes it took
    entries: int  # entries it listed
    next: Cursor | None  # where the next page is; None at the end
    announced: int | None = None  # how many pages the server says the listing has, where it says


def pages(fetch: Callable[[Cursor], Page[Cursor, Body]], first: Cursor, what: str) -> Iterator[Body]:
    """Every page of a listing, from ``first``. A listing past ``MAX_PAGES`` pages (or announcing more),
    ``MAX_LISTING_ENTRIES`` entries or ``MAX_LISTING_BYTES`` bytes in all is refused rather than cut short:
    cut short, a tag list would hide cosign tags; read to its end, a server could page forever or fill
    memory (one 4 MiB tag per page)."""
    cursor = first
    listed = read = 0
    for _ in range(MAX_PAGES):
        page = fetch(cursor)
        listed, read = listed + page.entries, read + page.size
        if (page.announced or 0) > MAX_PAGES:
            raise TooLargeError(f"{what}: more than {MAX_PAGES} pages; refusing a listing that large")
        if listed > MAX_LISTING_ENTRIES:
            raise TooLargeError(f"{what}: more than {MAX_LISTING_ENTRIES} entries; refusing a listing that large")
        if read > MAX_LISTING_BYTES:
            raise TooLargeError(
                f"{what}: more than {MAX_LISTING_BYTES // (1024 * 1024)} MiB; refusing a listing that large"
            )
        yield page.body
        if page.next is None:
            return
        cursor = page.next
    raise TooLargeError(f"{what}: more than {MAX_PAGES} pages; refusing a listing that does not end")


def same_registry_link(response: httpx.Response) -> str | None:
    """The next page of a paged listing (``Link: </v2/...?last=x&n=1000>; rel="next"``), on the same server only."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    url = response.url.join(link)
    return url.raw_path.decode() if url.host == response.url.host and url.port == response.url.port else None
