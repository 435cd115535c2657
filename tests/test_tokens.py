"""provider_helper/tokens.py: the one cache of bearer tokens (registry realms, NGC), by scope, each kept
until shortly before it runs out, its value never printed."""

from __future__ import annotations

import secrets
import time

import pytest

from provider_helper import redact
from provider_helper.tokens import Token, TokenCache


def test_a_token_is_good_until_its_margin_before_expiry() -> None:
    """``lasting(value, 600, 300)``: renewed 300 s before a 600 s token runs out, so good for about 300 s."""
    before = time.monotonic()
    token = Token.lasting("t-" + secrets.token_hex(8), 600, 300)
    assert before + 300 <= token.expires_at <= time.monotonic() + 300


def test_a_short_token_is_kept_for_half_its_lifetime_when_the_margin_is_longer() -> None:
    before = time.monotonic()
    token = Token.lasting("t-" + secrets.token_hex(8), 60, 300)
    assert before + 30 <= token.expires_at <= time.monotonic() + 30


def test_a_token_handed_out_is_never_printed_again() -> None:
    """The module's promise: once a token service hands a token out, ``redact`` keeps it out of every line."""
    value = "tok-" + secrets.token_hex(12)
    assert redact.redact(f"using {value}") == f"using {value}"
    Token.lasting(value, 600, 300)
    assert redact.redact(f"using {value}") == f"using {redact.REDACTED}"


def test_the_cache_answers_by_scope_until_the_token_is_past_its_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    cache: TokenCache[str] = TokenCache()
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    token = Token("v-" + secrets.token_hex(8), 1010.0)
    cache.put("org/team", token)
    assert cache.get("org/team") is token
    assert cache.get("org/other") is None, "a token is only for the scope it was given for"
    now[0] = 1009.9
    assert cache.get("org/team") is token
    now[0] = 1010.0
    assert cache.get("org/team") is None, "at its expiry a token is no longer reused"


def test_a_dropped_token_is_asked_for_again() -> None:
    cache: TokenCache[str] = TokenCache()
    cache.put("s", Token("v-" + secrets.token_hex(8), time.monotonic() + 100))
    cache.drop("s")
    assert cache.get("s") is None
    cache.drop("never-there")  # dropping what is not there is no error
