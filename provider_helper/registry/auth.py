"""Registry authentication as an httpx auth flow: Basic, and the distribution Bearer token flow.

The challenge says what to do: realm, service and scope are taken from ``WWW-Authenticate``,
never assumed (nvcr.io sends no service, and its realm can change between challenges).
Tokens are cached per scope and fetched again when a request using one gets 401. A run that
knows its repositories up front asks for one token covering many of them (``prefetch``).
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass

import httpx

from provider_helper.errors import AnonymousRefusedError, AuthenticationError, DeniedError, LicenceError, RegistryError
from provider_helper.http import bounded
from provider_helper.oci.reference import is_loopback
from provider_helper.origin import authority
from provider_helper.registry.credentials import Credential, CredentialSource
from provider_helper.tokens import Token, TokenCache
from provider_helper.transport import named_by
from provider_helper.wording import setting

_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_REPO_PATH_RE = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")
_TOKEN_MARGIN = 30.0
MAX_TOKEN_BYTES = 1024 * 1024  # a token answer: a few KiB of JWT, even for many scopes
# Scopes per prefetched token: keeps the token request's URL and the token itself a few KiB.
PREFETCH_BATCH = 25

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    realm: str = ""
    service: str = ""
    scope: str = ""


def parse_challenge(header: str | None) -> Challenge | None:
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM_RE.finditer(rest)
    }
    scheme = scheme.lower()
    if scheme not in ("basic", "bearer"):
        return None
    return Challenge(scheme, params.get("realm", ""), params.get("service", ""), params.get("scope", ""))


def repository_scope(repo: str, actions: str = "pull") -> str:
    """A token scope in the distribution token spec's form."""
    return f"repository:{repo}:{actions}"


def scopes_for(request: httpx.Request) -> tuple[str, ...]:
    """The token scopes a registry request needs, known before the server asks."""
    match = _REPO_PATH_RE.match(request.url.path)
    if not match:
        return ()
    repo = match.group("name")
    actions = "pull" if request.method in ("GET", "HEAD") else "pull,push"
    scopes = [repository_scope(repo, actions)]
    mount_from = request.url.params.get("from")
    if mount_from:
        scopes.append(repository_scope(mount_from))
    return tuple(scopes)


class RegistryAuth(httpx.Auth):
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
            except (
                RegistryError,
                LicenceError,
            ) as exc:  # rejected credentials (AuthenticationError) stop the run; a licence is per artifact
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

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> Token:
        realm = self._checked_realm(challenge)
        params: dict[str, str | list[str]] = {"scope": list(scopes)}  # repeated: scope=a&scope=b
        if challenge.service:
            params["service"] = challenge.service
        credential = self.credentials.get()
        try:
            if credential is not None and credential.is_identity_token:
                request = self._token_client.build_request(
                    "POST", realm, data=_refresh_form(credential, challenge, scopes), extensions=self._named()
                )
                sent = self._token_client.send(request, stream=True)
            else:
                auth = (credential.username, credential.password) if credential else None
                sent = self._token_client.send(
                    self._token_client.build_request("GET", realm, params=params, extensions=self._named()),
                    stream=True,
                    auth=auth or httpx.USE_CLIENT_DEFAULT,
                )
            response = bounded(sent, MAX_TOKEN_BYTES, f"token from {httpx.URL(realm).host} for {self.registry}")
        except httpx.TransportError as exc:
            raise RegistryError(f"token endpoint for {self.registry} unreachable: {type(exc).__name__}") from None
        if response.status_code == 401 and credential is not None:
            raise AuthenticationError(self.registry, "token endpoint rejected the credentials")
        if response.status_code == 412:  # nvcr.io: the artifact's licence terms are not accepted yet
            what = ", ".join(s.split(":")[1] for s in scopes if s.count(":") == 2) or self.registry
            raise LicenceError(f"accept the licence terms for {what} in the NGC catalog, then run again")
        if response.status_code in (401, 403):
            what = ", ".join(scopes) or "registry access"
            if (
                credential is None
            ):  # refused outright, not granted-but-useless: the preflight names the credential to provide
                raise AnonymousRefusedError(
                    f"access denied by {self.registry} for {what}; no credentials were found for it",
                    status=response.status_code,
                )
            raise DeniedError(f"access denied by {self.registry} for {what}", status=response.status_code)
        if response.status_code != 200:
            raise RegistryError(
                f"token endpoint for {self.registry} answered {response.status_code}", status=response.status_code
            )
        try:
            body = response.json()
            value = body.get("token") or body["access_token"]
            lifetime = float(body.get("expires_in") or 60)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RegistryError(
                f"token endpoint {httpx.URL(realm).host} for {self.registry} answered without a token"
            ) from None
        if not isinstance(value, str) or not value.isprintable() or " " in value:
            raise RegistryError(
                f"token endpoint {httpx.URL(realm).host} for {self.registry} answered without a usable token"
            )
        return Token.lasting(value, lifetime, _TOKEN_MARGIN)

    def _named(self) -> dict[str, object]:
        """A token realm is a URL the registry named: it reaches an internal address only from an internal registry."""
        return named_by("token realm", f"{self.scheme or 'https'}://{self.registry}")

    def _checked_realm(self, challenge: Challenge) -> str:
        """The realm credentials may be sent to: https, or plain HTTP where the registry itself is."""
        if not challenge.realm:
            raise RegistryError(f"{self.registry} asked for a bearer token but named no realm")
        try:
            realm = httpx.URL(challenge.realm)
        except httpx.InvalidURL:
            raise RegistryError(f"{self.registry} named an unusable token realm") from None
        if realm.scheme == "https" or (
            realm.scheme == "http" and self._plain_realm_ok and self._plain_realm_host(realm)
        ):
            return challenge.realm
        raise RegistryError(
            f"{self.registry} named a token realm on {realm.scheme or '?'}://{realm.host}: refusing to send credentials "
            f"without TLS (use {setting('insecure_registries')} for the registry if this is intended)"
        )

    def _plain_realm_host(self, realm: httpx.URL) -> bool:
        """A plain-HTTP realm of a plain-HTTP registry: on the registry's own host, or on loopback; never
        elsewhere, where the auth file's password would cross the network in clear."""
        return realm.host == httpx.URL(f"http://{self.registry}").host or is_loopback(realm.host)


def _refresh_form(credential: Credential, challenge: Challenge, scopes: tuple[str, ...]) -> dict[str, str]:
    """docker/cli's OAuth2 exchange of an identity token for an access token."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": credential.password,
        "client_id": "nvcf-mirror",
        "scope": " ".join(scopes),
    }
    if challenge.service:
        form["service"] = challenge.service
    return form


def _basic(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()
