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

import ipaddress
import socket
import threading
import time
import typing
import urllib.request
from collections.abc import Callable

import httpx

from provider_helper import answer_clock
from provider_helper.errors import PolicyError
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
        self._failed: dict[str, socket.gaierror] = {}  # a name that did not resolve stays unresolved (no rebinding)
        self._lock = threading.Lock()

    def addresses(self, host: str) -> list[str]:
        """Every address ``host`` resolves to; socket.gaierror when it does not."""
        key = host.strip("[]").lower()
        with self._lock:
            known, failed = self._pinned.get(key), self._failed.get(key)
        if known is not None:
            return known
        if failed is not None:
            raise failed
        try:  # an address written the one way ipaddress reads it is its own answer; any other spelling
            return [str(ipaddress.ip_address(key))]  # (2130706436, 127.4, 0x7f000004) is resolved
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(key, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:  # kept: a check that found no address must not be followed by a
            with self._lock:  # connection to a second answer (an NXDOMAIN, then the metadata address)
                raise self._failed.setdefault(key, exc) from None
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


def direct_transport(
    resolver: Resolver, *, verify: typing.Any, limits: httpx.Limits, proxy: str | None = None
) -> httpx.HTTPTransport:
    """httpx's transport, connecting through the pinned backend (to ``proxy`` when given)."""
    # imported here, with httpcore, when a client is first made: commands that never connect (plan
    # --offline, values, manifest) do not load httpcore, as httpx itself loads it only for a transport
    from provider_helper.pinned_backend import PinnedBackend

    made = httpx.HTTPTransport(verify=verify, limits=limits, proxy=proxy)
    # httpx builds its httpcore pool itself and takes no network backend: give it ours (httpcore's
    # documented ConnectionPool(network_backend=...) parameter, set after construction).
    made._pool._network_backend = PinnedBackend(resolver.addresses)
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
        head = answer_clock.AnswerHead(grace, rate)
        token = answer_clock.CURRENT.set(head)
        try:
            response = self._route(request.url).handle_request(request)
        finally:
            answer_clock.CURRENT.reset(token)
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
