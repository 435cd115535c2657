"""TLS settings shared by every client: loading a trust store costs tens of milliseconds, so
each bundle is loaded once per run."""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def verifying_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Public roots (certifi, as httpx uses), plus a private CA when ``--ca-file`` names one."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
