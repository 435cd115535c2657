"""The origin policy: where a request may go, and what may go with it.

Every httpx client the tool builds (``http.client``) checks each redirect here before following it,
and every place that attaches credentials asks here first:

- Scheme: a redirect never takes an https request to plain http.
- Redirects: from a host that is not internal (loopback, link-local, private), never into one, so a
  public server cannot make the tool fetch a metadata or credentials endpoint and store the answer.
  Judged where the connection is made, on the address the target resolves to (``transport``), for
  redirects and for every URL a server names; this hook marks who named the redirect's target.
- Credentials: only over TLS, or to a host where plain HTTP is allowed at all (loopback, or named
  with ``--insecure-registry``); a registry's own only to its exact scheme, host and port.

Byte, time and rate bounds are the HTTP layer's (``http.bounded`` for answers read whole, ``http.moving``
for blob streams, ``http.pages`` for listings); the README's Security section lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from provider_helper.errors import PolicyError
from provider_helper.oci.reference import is_loopback
from provider_helper.redact import redact_url
from provider_helper.transport import NAMED_BY


def authority(url: httpx.URL) -> str:
    """``host[:port]`` as registries and auth files name a server (IPv6 in brackets, default ports left out)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port else host


def origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{authority(url)}"


def check_redirect(response: httpx.Response) -> None:
    """An httpx response hook: refuse a redirect that leaves TLS; mark the redirected request as named by
    the server that redirected (the transport keeps it off internal addresses unless that server is internal)."""
    if not response.has_redirect_location:
        return
    source = response.request.url
    try:
        target = source.join(response.headers["location"])
    except (httpx.InvalidURL, ValueError):
        raise PolicyError(f"{redact_url(str(source.copy_with(query=None)))} redirected to an invalid URL") from None
    shown = redact_url(str(target.copy_with(query=None)))
    if source.scheme == "https" and target.scheme != "https":
        raise PolicyError(f"refusing the redirect from {origin(source)} to {shown}: it leaves TLS")
    # Whether the target is internal is judged where it connects, on the address it resolves to
    # (transport.GuardedTransport), not here on its spelling: httpx builds the next request with this
    # request's extensions, so it carries who named it.
    response.request.extensions[NAMED_BY] = ("redirect", origin(source))


@dataclass(frozen=True)
class OriginPolicy:
    """The run's choices: which hosts may be spoken to in plain HTTP (``--insecure-registry``)."""

    insecure_hosts: frozenset[str] = frozenset()

    def plain_http_allowed(self, url: httpx.URL) -> bool:
        return is_loopback(url.host) or authority(url) in self.insecure_hosts or url.host in self.insecure_hosts

    def may_send_credentials(self, url: httpx.URL) -> bool:
        """Whether a credential may travel with a request to ``url``: over TLS, or where plain HTTP is allowed."""
        return url.scheme == "https" or self.plain_http_allowed(url)
