"""The one place the tool's httpx clients are built: registries, token services, Helm repositories,
the NGC API and storage all get the same timeouts, TLS settings, proxies from the environment
(``HTTPS_PROXY``, ``NO_PROXY``: httpx's ``trust_env``), ``User-Agent: nvcf-mirror/<version>`` and the
redirect rules of ``origin``.

Retries are not here: a single request is retried by its caller's one retry layer
(``registry.retry.call_with_retries``), never by two nested ones.
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

import httpx

from provider_helper.origin import check_redirect

TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=300.0, pool=None)


@functools.cache
def user_agent() -> str:
    try:
        version = metadata.version("nvcf-mirror")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"nvcf-mirror/{version}"


def client(*, verify: Any = True, base_url: str = "", auth: httpx.Auth | None = None, limits: httpx.Limits | None = None,
           transport: httpx.BaseTransport | None = None, follow_redirects: bool = False, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    """An httpx client with the tool's defaults; ``verify`` is an ``ssl.SSLContext`` (``registry.tls``) or False.
    Every redirect it is answered passes the origin policy before it is followed."""
    return httpx.Client(
        base_url=base_url, auth=auth, verify=verify, timeout=timeout, limits=limits or httpx.Limits(), transport=transport,
        follow_redirects=follow_redirects, headers={"User-Agent": user_agent()}, event_hooks={"response": [check_redirect]},
    )
