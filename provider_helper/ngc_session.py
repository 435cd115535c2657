"""The authenticated JSON requests of the NGC REST API, as NVIDIA's own client (``ngcsdk``) makes them.

- A personal key (``nvapi-…``) is the Bearer token. A legacy key is exchanged at the authn
  service for a token with ``expires_in``; it is renewed before it runs out and once after a 401.
  Without a key, requests go anonymously (the public catalog, ``nvidia/...``); only a refusal asks
  for ``NGC_API_KEY``, naming the organisation it must be a key of.
- 412 means the licence terms must be accepted in the NGC catalog first.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import httpx

from provider_helper import http
from provider_helper.artifacts import ResourceRef
from provider_helper.errors import InputError, LicenceError, NotFoundError, RegistryError
from provider_helper.http import bounded, error_from
from provider_helper.retry import RetryPolicy, call_with_retries
from provider_helper.tokens import Token, TokenCache

API_URL = "https://api.ngc.nvidia.com"
AUTHN_URL = "https://authn.nvidia.com"
API_URL_ENV, AUTHN_URL_ENV = "NVCF_MIRROR_NGC_API_URL", "NVCF_MIRROR_NGC_AUTHN_URL"  # a proxy, or the tests' stand-in
CATALOG_URL = "https://catalog.ngc.nvidia.com"
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_TOKEN_BYTES = 1024 * 1024  # a token service's answer, as for a registry's realm (the README's limits table)
RENEW_MARGIN = 300.0  # seconds before expiry a legacy-key token is renewed, as ngcsdk does


class NgcSession:
    """One HTTP client to NGC and the tokens of each organisation it speaks for."""

    def __init__(
        self,
        key: str | None,
        api_url: str = API_URL,
        authn_url: str = AUTHN_URL,
        retry: RetryPolicy | None = None,
        verify: Any = True,
    ) -> None:
        """``key`` None: anonymous requests, for the public catalog."""
        self._key = key or ""
        self.api_url = api_url.rstrip("/")
        self.authn_url = authn_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._http = http.client(verify=verify)
        self._tokens: TokenCache[str] = TokenCache()
        self._exchanging = threading.Lock()  # one exchange at a time: concurrent artifacts of an org share its token

    def close(self) -> None:
        self._http.close()

    # -- authentication ------------------------------------------------------------------------

    def _bearer(self, ref: ResourceRef, *, renew: bool = False) -> str | None:
        if not self._key:
            return None
        if self._key.startswith("nvapi-"):
            return self._key
        scope = f"{ref.org}/{ref.team or ''}"
        with self._exchanging:
            token = None if renew else self._tokens.get(scope)
            if token is None:
                token = self._exchange(ref)
                self._tokens.put(scope, token)
            return token.value

    def _exchange(self, ref: ResourceRef) -> Token:
        scopes = [f"group/ngc:{ref.org}"] + ([f"group/ngc:{ref.org}/{ref.team}"] if ref.team else [])
        host = httpx.URL(self.authn_url).host
        response = bounded(
            self._http.send(
                self._http.build_request("GET", f"{self.authn_url}/token", params={"service": "ngc", "scope": scopes}),
                stream=True,
                auth=("$oauthtoken", self._key),
            ),
            MAX_TOKEN_BYTES,
            f"NGC token from {host}",
        )
        if response.status_code in (401, 403):
            raise self._refused(host, ref)
        if response.status_code != 200:
            raise error_from(response, "NGC token exchange", host)
        body = _json(response, f"NGC token from {host}")
        value = body.get("token")
        if not isinstance(value, str) or not value:
            raise RegistryError(f"the NGC token service {host} answered without a token")
        try:
            lifetime = float(body.get("expires_in") or 600)
        except (TypeError, ValueError):
            lifetime = math.nan
        if not math.isfinite(lifetime) or lifetime <= 0:
            raise RegistryError(
                f"the NGC token service {host} answered with a token lifetime that is not a positive number"
            )
        return Token.lasting(value, lifetime, RENEW_MARGIN)

    def _get_json(self, ref: ResourceRef, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._get_sized(ref, url, params)[0]

    def _get_sized(
        self, ref: ResourceRef, url: str, params: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], int]:
        """The JSON object at ``url`` and the bytes it took (a listing counts them across its pages)."""
        host = httpx.URL(self.api_url).host

        def attempt() -> tuple[dict[str, Any], int]:
            response = self._api_get(ref, url, params, renew=False)
            if response.status_code == 401 and self._key and not self._key.startswith("nvapi-"):
                response = self._api_get(ref, url, params, renew=True)  # a token the service expired early
            if response.status_code == 401 or (response.status_code == 403 and not self._key):
                raise self._refused(host, ref)
            if response.status_code == 412:
                raise LicenceError(
                    f"accept the licence terms for {ref} in the NGC catalog ({self.catalog_url(ref)}), then run again"
                )
            if response.status_code == 404:
                raise NotFoundError(f"NGC has no {ref} ({host} answered 404)", status=404)
            if response.status_code != 200:
                raise error_from(response, f"NGC {ref}", host)
            return _json(response, f"NGC {ref}"), len(response.content)

        return call_with_retries(attempt, self.retry, f"NGC {ref}")

    def _refused(self, host: str, ref: ResourceRef) -> InputError:
        """A refusal in words a user acts on: which variable, and the organisation the key must be of."""
        if not self._key:
            return InputError(
                f"{host} refused an anonymous request for {ref} and NGC_API_KEY is not set: export NGC_API_KEY with "
                f"an API key of the NGC organisation {ref.org}"
            )
        return InputError(
            f"authentication failed for {host}: NGC refused NGC_API_KEY for {ref}: it must be an API key of the NGC "
            f"organisation {ref.org}"
        )

    def _api_get(self, ref: ResourceRef, url: str, params: dict[str, Any] | None, *, renew: bool) -> httpx.Response:
        bearer = self._bearer(ref, renew=renew)
        request = self._http.build_request(
            "GET", url, params=params, headers={"Authorization": f"Bearer {bearer}"} if bearer else {}
        )
        return bounded(self._http.send(request, stream=True), MAX_JSON_BYTES, f"NGC {ref}")

    @staticmethod
    def catalog_url(ref: ResourceRef) -> str:
        team = f"/{ref.team}" if ref.team else ""
        return f"{CATALOG_URL}/orgs/{ref.org}{f'/teams{team}' if team else ''}/resources/{ref.name}"


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise RegistryError(f"{what}: the answer is not JSON") from None
    if not isinstance(body, dict):
        raise RegistryError(f"{what}: the answer is not a JSON object")
    return body
