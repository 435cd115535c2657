"""Registry authentication as an httpx auth flow: Basic, and the distribution Bearer token flow.

The challenge says what to do: realm, service and scope are taken from ``WWW-Authenticate``,
never assumed (nvcr.io sends no service, and its realm can change between challenges).
Tokens are cached per scope and fetched again when a request using one gets 401. A run that
knows its repositories up front asks for one token covering many of them (``prefetch``). The challenge
and the scopes are ``challenge``'s, the token request ``token_realm``'s.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Generator, Iterable

import httpx

from provider_helper.errors import AuthenticationError, LicenceError, RegistryError
from provider_helper.origin import authority
from provider_helper.registry.challenge import Challenge, parse_challenge, scopes_for
from provider_helper.registry.credentials import Credential, CredentialSource
from provider_helper.registry.token_realm import TokenRealm
from provider_helper.tokens import TokenCache

# Scopes per prefetched token: keeps the token request's URL and the token itself a few KiB.
PREFETCH_BATCH = 25

log = logging.getLogger(__name__)


class RegistryAuth(TokenRealm, httpx.Auth):
    """Authenticates every request to one registry host; safe to share between threads."""

    def __init__(
        self,
        registry: str,
        credentials: CredentialSource,
        token_client: httpx.Client,
        *,
        plain_realm_ok: bool = False,
        scheme: str | None = None,
    ) -> None:
        """``plain_realm_ok``: the registry itself is spoken to without verified TLS (loopback or
        ``--insecure-registry``), so a plain-HTTP token realm adds no new exposure. ``scheme``: the one
        the registry is spoken to with (None: either); credentials never go to the other."""
        self.registry = registry
        self.scheme = scheme
        self.credentials = credentials
        self._token_client = token_client
        self._plain_realm_ok = plain_realm_ok
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._tokens: TokenCache[tuple[str, ...]] = TokenCache()

    def on_registry(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on the registry's own scheme, host and port: the only place credentials go
        and the only place a challenge is learned from (not a storage host a blob redirects to, not an
        upload Location elsewhere, not the same host in plain HTTP)."""
        return authority(url) == self.registry.lower() and (self.scheme is None or url.scheme == self.scheme)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self.on_registry(request.url):
            yield request  # never carry the registry's credentials to another host
            return
        scopes = scopes_for(request)
        sent_credentials = self._authorize(request, scopes)
        response = yield request
        if response.status_code != 401 or not self.on_registry(response.url):
            return
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            return
        with self._lock:
            self._challenge = challenge
        self._tokens.drop(scopes)
        credential = self.credentials.get(refresh=sent_credentials)
        if sent_credentials and challenge.scheme == "basic" and credential == self._sent(request):
            raise AuthenticationError(self.registry, "credentials rejected")
        if not isinstance(request.stream, httpx.ByteStream):
            return  # a streamed body cannot be sent twice; the caller retries the whole upload
        if challenge.scheme == "basic":
            if credential is None:
                return
            request.headers["Authorization"] = _basic(credential)
        else:
            wanted = tuple(dict.fromkeys((*scopes, *challenge.scope.split()))) if challenge.scope else scopes
            token = self._fetch_token(challenge, wanted)
            self._tokens.put(scopes, token)
            request.headers["Authorization"] = f"Bearer {token.value}"
        retried = yield request
        # A 401 to a bearer request with a repository scope can mean "not entitled"; only a
        # rejected Basic login or a rejected registry-wide token means the credentials are wrong.
        if retried.status_code == 401 and credential is not None and (challenge.scheme == "basic" or not scopes):
            raise AuthenticationError(self.registry, "credentials rejected")

    def learn(self, response: httpx.Response) -> Challenge | None:
        """Remember the challenge of a 401 answered to a request sent without the auth flow."""
        challenge = (
            parse_challenge(response.headers.get("www-authenticate")) if self.on_registry(response.url) else None
        )
        if challenge is not None:
            with self._lock:
                self._challenge = challenge
        return challenge

    def prefetch(self, scopes: Iterable[str]) -> bool:
        """Fetch one token per ``PREFETCH_BATCH`` scopes and cache it for each, so the first request
        to each repository needs no token round trip of its own; True when every batch got one.

        Rejected credentials raise AuthenticationError. Anything else is left to the per-request
        flow, which fetches (and reports) as usual: a refusal, or a grant of less than asked."""
        with self._lock:
            challenge = self._challenge
        wanted = [s for s in dict.fromkeys(scopes) if self._tokens.get((s,)) is None]
        if challenge is None or challenge.scheme != "bearer":
            return False
        for start in range(0, len(wanted), PREFETCH_BATCH):
            batch = tuple(wanted[start : start + PREFETCH_BATCH])
            try:
                token = self._fetch_token(challenge, batch)
            # rejected credentials (AuthenticationError) stop the run; a licence is per artifact
            except (RegistryError, LicenceError) as exc:
                log.debug(
                    "one token for %d repositories of %s: %s; fetching per repository", len(batch), self.registry, exc
                )
                return False
            for scope in batch:
                self._tokens.put((scope,), token)
        return True

    def _sent(self, request: httpx.Request) -> Credential | None:
        """The Basic credential a request carried (to tell a stale token from a wrong password)."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return Credential(user, password)

    def _authorize(self, request: httpx.Request, scopes: tuple[str, ...]) -> bool:
        """Attach what we already know works, so most requests need no 401 round trip."""
        with self._lock:
            challenge = self._challenge
        token = self._tokens.get(scopes)
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            credential = self.credentials.get()
            if credential is None:
                return False
            request.headers["Authorization"] = _basic(credential)
            return True
        if token is None:
            token = self._fetch_token(challenge, scopes)
            self._tokens.put(scopes, token)
        request.headers["Authorization"] = f"Bearer {token.value}"
        return False


def _basic(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()
