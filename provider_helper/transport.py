"""Where a connection goes: the address policy, applied where httpx connects.

Every client of the tool (``http.client``) sends through one ``GuardedTransport``:

- Names are resolved once and pinned (``Resolver``; ``http.RUN_RESOLVER``, shared by every client of a run
  not given its own, so one lookup per name a run): the address that is checked is the address connected
  to (a custom httpcore network backend), whatever the spelling (``2130706436``, ``0x7f000004``, ``127.4``,
  ``0``, IPv6, IPv4-mapped IPv6) or the name (``169.254.169.254.nip.io``, an ``/etc/hosts`` entry). TLS
  still names the host (SNI) and the Host header is the URL's.
- A URL a server named (a redirect, an NGC pre-signed URL, a Helm index's chart URL, a token realm)
  carries that server's origin (``NAMED_BY``). It may reach a loopback, link-local, private or
  unspecified address only when the server that named it is itself at such an address (the user's
  own network, which the user chose to speak to): a public server can never make the tool fetch a
  metadata or other internal endpoint. A URL the user gave goes wherever it resolves.
- Environment proxies (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) are used for every host but a
  loopback one, as Docker does: a loopback registry's credentials never go to a proxy. The proxy's own
  address is the user's choice and is not checked.
- One clock for the head of every answer: once its first byte arrives, the status line and headers
  must keep to the rate the README gives answers read whole (any rate for ``http.ANSWER_GRACE``
  seconds, then ``http.MIN_ANSWER_RATE`` bytes a second on average), or the request is given up: httpx's
  read timeout starts again with every byte. ``http.bounded`` continues that clock over the body.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import ssl
import threading
import time
import typing
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

from provider_helper.errors import PolicyError, RegistryError
from provider_helper.oci.reference import is_loopback
from provider_helper.redact import redact_url

NAMED_BY = "nvcf_named_by"  # request extension: (what named it, the origin of the server that did)
ANSWER_STARTED = "nvcf_answer_started"  # response extension: time.monotonic() of the answer's first byte
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: never a public server


def is_internal_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, link-local (169.254.0.0/16, the cloud metadata address; fe80::/10), private, unspecified
    or shared (100.64.0.0/10); an IPv4-mapped IPv6 address by its IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE)
    )


class Resolver:
    """Host -> addresses, resolved once and kept for the client's life (no second answer to rebind to)."""

    def __init__(self, hosts: dict[str, list[str]] | None = None) -> None:
        """``hosts``: fixed answers, as an ``/etc/hosts`` would give (the tests' stand-in for DNS)."""
        self._pinned: dict[str, list[str]] = {k.lower(): v for k, v in (hosts or {}).items()}
        self._lock = threading.Lock()

    def addresses(self, host: str) -> list[str]:
        """Every address ``host`` resolves to; socket.gaierror when it does not."""
        key = host.strip("[]").lower()
        with self._lock:
            known = self._pinned.get(key)
        if known is not None:
            return known
        try:  # an address written the one way ipaddress reads it is its own answer; any other spelling
            return [str(ipaddress.ip_address(key))]  # (2130706436, 127.4, 0x7f000004) is resolved
        except ValueError:
            pass
        infos = socket.getaddrinfo(key, None, type=socket.SOCK_STREAM)
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        with self._lock:
            return self._pinned.setdefault(key, found)

    def internal(self, host: str) -> list[str]:
        """The internal addresses among ``host``'s (empty when it does not resolve here)."""
        try:
            found = self.addresses(host)
        except (socket.gaierror, UnicodeError):
            return []
        return [a for a in found if is_internal_address(ipaddress.ip_address(a.split("%")[0]))]


@dataclass
class _Head:
    """The head of one answer as it arrives: when its first byte came and how many have come since."""

    grace: float
    rate: float
    started: float | None = None
    received: int = 0

    def timeout(self, default: float | None) -> float | None:
        if self.started is None:
            return default  # waiting for the server to begin: httpx's read timeout
        left = self.started + self.grace + self.received / self.rate - time.monotonic() if self.rate else None
        if left is not None and left <= 0:
            raise RegistryError(
                f"the answer's status line and headers arrive slower than {self.rate / 1024:.0f} KiB/s "
                f"after {self.grace:.0f} s; giving up on it"
            )
        return left if default is None or (left is not None and left < default) else default


_HEAD: contextvars.ContextVar[_Head | None] = contextvars.ContextVar("nvcf_answer_head", default=None)


class _WatchedStream(httpcore.NetworkStream):
    """A connection whose reads keep to the clock of the answer head being read (``_HEAD``)."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        head = _HEAD.get()
        if head is None:
            return self._stream.read(max_bytes, timeout)
        try:
            data = self._stream.read(max_bytes, head.timeout(timeout))
        except httpcore.ReadTimeout:
            # raises when the clock, not httpx's timeout, ran out
            head.timeout(0.0 if head.started is not None else None)
            raise
        if head.started is None:
            head.started = time.monotonic()
        head.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _WatchedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _PinnedBackend(httpcore.SyncBackend):
    """Connects to the addresses the resolver pinned for the host (the ones the policy checked)."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._resolver.addresses(host)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from None
        failure: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return _WatchedStream(super().connect_tcp(address, port, timeout, local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure


def direct_transport(
    resolver: Resolver, *, verify: typing.Any, limits: httpx.Limits, proxy: str | None = None
) -> httpx.HTTPTransport:
    """httpx's transport, connecting through the pinned backend (to ``proxy`` when given)."""
    made = httpx.HTTPTransport(verify=verify, limits=limits, proxy=proxy)
    # httpx builds its httpcore pool itself and takes no network backend: give it ours (httpcore's
    # documented ConnectionPool(network_backend=...) parameter, set after construction).
    made._pool._network_backend = _PinnedBackend(resolver)
    return made


class GuardedTransport(httpx.BaseTransport):
    """Every request of a client: routed direct or through the environment's proxy, checked by the address
    policy on where it resolves, its answer head read against the clock."""

    def __init__(
        self,
        resolver: Resolver,
        direct: httpx.BaseTransport,
        proxied: Callable[[str], httpx.BaseTransport] | None,
        head_limits: Callable[[], tuple[float, float]],
    ) -> None:
        self.resolver = resolver
        self._direct = direct
        self._proxied = proxied
        self._proxies = urllib.request.getproxies_environment() if proxied is not None else {}
        self._proxy_transports: dict[str, httpx.BaseTransport] = {}
        self._lock = threading.Lock()
        self._head_limits = head_limits

    def _route(self, url: httpx.URL) -> httpx.BaseTransport:
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")  # HTTPS_PROXY, HTTP_PROXY, ALL_PROXY
        if (
            self._proxied is None
            or not proxy
            or is_loopback(url.host)
            or urllib.request.proxy_bypass_environment(url.host, self._proxies)  # type: ignore[attr-defined]
        ):
            return self._direct
        with self._lock:
            if proxy not in self._proxy_transports:
                self._proxy_transports[proxy] = self._proxied(proxy)
            return self._proxy_transports[proxy]

    def check(self, request: httpx.Request) -> None:
        """PolicyError when a URL a public server named resolves to an internal address."""
        named = request.extensions.get(NAMED_BY)
        if named is None:
            return  # the user's own URL (or one on a registry's own base)
        kind, by = named
        if self.resolver.internal(httpx.URL(by).host):
            return  # named by a server on the user's own network
        reached = self.resolver.internal(request.url.host)
        if reached:
            shown = redact_url(str(request.url.copy_with(query=None)))
            raise PolicyError(f"refusing the {kind} from {by} to {shown}: an internal address ({reached[0]})")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.check(request)
        grace, rate = self._head_limits()
        head = _Head(grace, rate)
        token = _HEAD.set(head)
        try:
            response = self._route(request.url).handle_request(request)
        finally:
            _HEAD.reset(token)
        response.extensions[ANSWER_STARTED] = head.started or time.monotonic()
        return response

    def close(self) -> None:
        self._direct.close()
        for made in self._proxy_transports.values():
            made.close()


def named_by(kind: str, server: str | httpx.URL) -> dict[str, typing.Any]:
    """The request extensions of a URL ``server`` (a URL or origin) named: ``build_request(..., extensions=...)``."""
    url = httpx.URL(str(server))
    return {NAMED_BY: (kind, f"{url.scheme}://{url.netloc.decode()}")}
