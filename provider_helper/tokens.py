"""Bearer tokens a token service handed out (a registry's realm, NGC's authn service), cached by
scope until shortly before they expire: one cache for every service, thread-safe."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from provider_helper.redact import remember

Scope = TypeVar("Scope", bound=Hashable)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # on time.monotonic()'s clock

    @classmethod
    def lasting(cls, value: str, lifetime: float, margin: float) -> Token:
        """A token given for ``lifetime`` seconds, renewed ``margin`` seconds before it runs out (or at
        half its lifetime, for a short one). Its value is never printed from here on (``redact``)."""
        remember(value)
        return cls(value, time.monotonic() + max(lifetime - margin, lifetime / 2))


class TokenCache(Generic[Scope]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[Scope, Token] = {}

    def get(self, scope: Scope) -> Token | None:
        """The token for ``scope`` while it is still good; None once it is past its lifetime."""
        with self._lock:
            token = self._tokens.get(scope)
        return token if token is not None and token.expires_at > time.monotonic() else None

    def put(self, scope: Scope, token: Token) -> None:
        with self._lock:
            self._tokens[scope] = token

    def drop(self, scope: Scope) -> None:
        with self._lock:
            self._tokens.pop(scope, None)
