"""TLS settings shared by every client: loading a trust store costs tens of milliseconds, so
each bundle is loaded once per run, and the public roots only when a run first speaks TLS (a run
against loopback registries, plain HTTP, never does)."""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
from typing import Any

import certifi


class _RootsAtFirstHandshake(ssl.SSLContext):
    """A client context (certificates and host names verified, as ``ssl.create_default_context``
    makes it) that loads the public roots just before its first handshake. Every TLS socket or BIO is
    made through ``wrap_socket`` or ``wrap_bio``, so no handshake ever starts before the roots are in."""

    _roots_lock: threading.Lock
    _roots_loaded: bool

    def _load_public_roots(self) -> None:
        with self._roots_lock:
            if not self._roots_loaded:
                self.load_verify_locations(cafile=certifi.where())
                self._roots_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load_public_roots()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load_public_roots()
        return super().wrap_bio(*args, **kwargs)


@functools.cache
def verifying_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Public roots (certifi, as httpx uses; loaded at the first handshake), plus a private CA when
    ``--ca-file`` names one (loaded now: a file that is no CA bundle is refused before anything starts)."""
    context = _RootsAtFirstHandshake(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname, as the default
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if sys.version_info >= (3, 13):  # what create_default_context adds there (strict RFC 5280 checks)
        context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    context._roots_lock, context._roots_loaded = threading.Lock(), False
    keylog = os.environ.get("SSLKEYLOGFILE")  # as create_default_context does
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
