"""The distribution token flow's token request: to the realm a challenge named (https, or plain HTTP only
where the registry itself is spoken to so), with the registry's credentials, Basic or an identity token's
OAuth2 exchange; its answer bounded and read into a token with a lifetime, or a refusal in words.
"""

from __future__ import annotations

import httpx

from provider_helper.errors import AnonymousRefusedError, AuthenticationError, DeniedError, LicenceError, RegistryError
from provider_helper.http import bounded
from provider_helper.oci.reference import is_loopback
from provider_helper.registry.challenge import Challenge
from provider_helper.registry.credentials import Credential, CredentialSource
from provider_helper.tokens import Token
from provider_helper.transport import named_by
from provider_helper.wording import setting

_TOKEN_MARGIN = 30.0
MAX_TOKEN_BYTES = 1024 * 1024  # a token answer: a few KiB of JWT, even for many scopes


class TokenRealm:
    """The token requests of one registry's auth flow (``auth.RegistryAuth``, which sets these)."""

    registry: str
    scheme: str | None
    credentials: CredentialSource
    _token_client: httpx.Client
    _plain_realm_ok: bool

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> Token:
        realm = self._checked_realm(challenge)
        params: dict[str, str | list[str]] = {"scope": list(scopes)}  # repeated: scope=a&scope=b
        if challenge.service:
            params["service"] = challenge.service
        credential = self.credentials.get()
        try:
            if credential is not None and credential.is_identity_token:
                request = self._token_client.build_request(
                    "POST", realm, data=refresh_form(credential, challenge, scopes), extensions=self._named()
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
            # refused outright, not granted-but-useless: the preflight names the credential to provide
            if credential is None:
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
        """A token realm is a URL the registry named: it reaches an internal address only from an internal
        registry."""
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
            f"{self.registry} named a token realm on {realm.scheme or '?'}://{realm.host}: refusing to send "
            f"credentials without TLS (use {setting('insecure_registries')} for the registry if this is intended)"
        )

    def _plain_realm_host(self, realm: httpx.URL) -> bool:
        """A plain-HTTP realm of a plain-HTTP registry: on the registry's own host, or on loopback; never
        elsewhere, where the auth file's password would cross the network in clear."""
        return realm.host == httpx.URL(f"http://{self.registry}").host or is_loopback(realm.host)


def refresh_form(credential: Credential, challenge: Challenge, scopes: tuple[str, ...]) -> dict[str, str]:
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
