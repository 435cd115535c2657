"""Whole answers from web servers that are not registries (a classic Helm repository's index, charts
and provenance files): one GET, retried, within a byte bound, under the origin policy.

Anonymous first, as public NGC repositories refuse keys they do not expect; the owner's credential
only when the server asks for one, the URL is on the owner's exact origin (scheme, host and port: an
index naming an ``http://`` chart URL gets no key sent in the clear) and the policy lets a credential
go there. Redirects pass ``origin.check_redirect`` like every request of the tool.
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

from provider_helper import http
from provider_helper.origin import OriginPolicy, authority, origin
from provider_helper.redact import redact_url
from provider_helper.registry.credentials import CredentialStore
from provider_helper.retry import RetryPolicy, call_with_retries
from provider_helper.transport import named_by


class Fetcher:
    """Thread-safe; the connection pool is created on first use (most runs fetch nothing this way)."""

    def __init__(
        self,
        credentials: CredentialStore,
        retry: RetryPolicy | None = None,
        verify: Any = True,
        policy: OriginPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.policy = policy or OriginPolicy()
        self._verify = verify

    @functools.cached_property
    def _http(self) -> httpx.Client:
        return http.client(follow_redirects=True, verify=self._verify)

    def close(self) -> None:
        """Close the connections; a later request reconnects."""
        client = self.__dict__.pop("_http", None)
        if client is not None:
            client.close()

    def get(self, url: str, max_bytes: int, *, owner: str) -> bytes:
        """The body at ``url``, whose credentials are those of ``owner`` (a repository URL). Refused past
        ``max_bytes`` while it streams; NotFoundError and DeniedError are kinds a caller may accept."""
        parts = httpx.URL(url)
        host = authority(parts)
        what = f"GET {redact_url(url.split('?')[0])}"
        credentials_allowed = origin(parts) == origin(httpx.URL(owner)) and self.policy.may_send_credentials(parts)

        def fetch(auth: tuple[str, str] | None) -> httpx.Response:
            request = self._http.build_request("GET", url, extensions=named_by("URL", owner))  # the index names it
            return http.bounded(
                self._http.send(request, stream=True, auth=auth or httpx.USE_CLIENT_DEFAULT), max_bytes, what
            )

        def attempt() -> bytes:
            response = fetch(None)
            if response.status_code == 401 and not (parts.username or parts.password) and credentials_allowed:
                credential = self.credentials.for_host(host).get()
                if credential is not None:
                    response = fetch((credential.username, credential.password))
            if response.status_code != 200:
                raise http.error_from(
                    response,
                    what,
                    host,
                    denied_hint=f"check the credentials for {host}" if credentials_allowed else None,
                )
            return response.content

        return call_with_retries(attempt, self.retry, what)
