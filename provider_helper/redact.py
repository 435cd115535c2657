"""Secrets kept out of everything the tool prints or writes.

Credentials are remembered here when they are read (an NGC key, a registry password, a token a
registry issued), and ``redact`` removes them, the user:password part of URLs and the query of
URLs (pre-signed storage URLs carry their token there) from any text bound for a terminal, a
log, a result document or Terraform. It is the last line of defence: messages are written not
to hold secrets in the first place.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "<redacted>"
_MIN_LENGTH = 6  # shorter values would redact ordinary words
_USERINFO_RE = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@?#]+@")
_QUERY_RE = re.compile(r"(?P<url>\bhttps?://[^\s?#'\"]+)\?[^\s'\"]*")

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_lock = threading.Lock()
_secrets: set[str] = set()


def remember(secret: str | None) -> None:
    """Treat ``secret`` (and each line or word of it, for a value pasted with a newline) as secret."""
    if not secret:
        return
    pieces = {secret, *secret.split()}
    with _lock:
        _secrets.update(p for p in pieces if len(p) >= _MIN_LENGTH)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _QUERY_RE.sub(lambda m: f"{m['url']}?{REDACTED}", redact_url(text))


def printable(text: str) -> str:
    """``text`` with its control characters (line breaks, tabs, ESC, DEL, C1) written as escapes:
    server text is data, so it can neither start a log line of its own nor steer a terminal."""
    return _CONTROL_RE.sub(lambda m: _ESCAPES.get(m[0], f"\\x{ord(m[0]):02x}"), text)


def shown(text: str) -> str:
    """``text`` as it may be shown or written: no secrets, no control characters."""
    return printable(redact(text))


def redact_url(url: str) -> str:
    """``url`` (or any text) without the user:password part of its URLs; queries are kept."""
    return _USERINFO_RE.sub(lambda m: f"{m['scheme']}{REDACTED}@", url)


class RedactingFilter(logging.Filter):
    """Applied to the CLI's log handler: every record is formatted, then redacted and its control characters escaped."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = shown(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
