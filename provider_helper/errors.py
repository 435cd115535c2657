"""Error kinds. InputError and its kinds are the user's to fix (exit 2); RegistryError and its kinds
fail one artifact (exit 1). The CLI and the Terraform adapter choose the exit codes."""

from __future__ import annotations

import copy
from collections.abc import Callable


class InputError(Exception):
    """Bad flags, manifest, reference or missing credentials: exit 2, nothing is pushed."""


class SettingError(InputError):
    """Bad input in one of a run's settings (``set_versions``, ``groups``, ``platforms``): domain code
    names the setting and the item; each front door words them in its own terms (``--set-version
    NAME=…`` on the CLI, ``set_versions["NAME"]`` in Terraform)."""

    def __init__(
        self, setting: str, item: str, problem: str, *, value: str | None = None, neutral: str | None = None
    ) -> None:
        """``neutral``: the words where no front door applies (a manifest entry), else ``setting item[=value]``."""
        self.setting, self.item, self.problem, self.value = setting, item, problem, value
        super().__init__(f"{neutral or f'{setting} {item}' + (f'={value}' if value is not None else '')}: {problem}")


class ManifestError(InputError):
    """A manifest with problems: every one of them, each ``file:line: path: what``, reported together."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = tuple(problems)


def error_lines(exc: Exception, setting_words: Callable[[SettingError], str]) -> list[str]:
    """The lines a front door shows for an error: each problem of a manifest, a setting in the front
    door's own words (``setting_words``), else the error's text."""
    if isinstance(exc, ManifestError):
        return list(exc.problems)
    if isinstance(exc, SettingError):
        return [setting_words(exc)]
    return [str(exc)]


class AuthenticationError(InputError):
    """A registry rejected the credentials we hold for it."""

    def __init__(self, registry: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"authentication failed for {registry}{suffix}")
        self.registry = registry


class RegistryError(Exception):
    """A server answered something other than what the operation needs. The kinds below say what the
    content API's callers act on; ``status`` and ``code`` (the HTTP status, the registry's error code)
    are for the HTTP layer and for messages only."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def about(self, what: str) -> RegistryError:
        """The same error, of the same kind, with ``what`` in front of its message."""
        prefixed = copy.copy(self)
        prefixed.args = (f"{what}: {self}",)
        return prefixed


class NotFoundError(RegistryError):
    """The store has no such repository, manifest or file."""


class DeniedError(RegistryError):
    """The store refuses us this (no or insufficient credentials, a pull-only role, a refused pre-signed URL)."""


class AnonymousRefusedError(DeniedError):
    """A token service that refuses an anonymous token outright (nvcr.io for a private organisation without a key)."""


class RateLimitError(RegistryError):
    """A registry's pull rate limit is used up for longer than a retry waits (Docker Hub's 429 ``TOOMANYREQUESTS``)."""


class UnsupportedError(RegistryError):
    """The store does not do this operation (ECR refusing a referrer pushed by digest)."""


class BlobUnknownError(RegistryError):
    """A manifest PUT refused because a blob it names is not (readably) there yet."""


class TooLargeError(RegistryError):
    """An answer past its byte bound: refused rather than read."""


class TransientError(RegistryError):
    """Worth retrying: 429, 5xx. ``retry_after`` is the server's hint in seconds, if it gave one."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class UnreachableError(TransientError):
    """No answer from a server: refused, reset, timed out. Transient: a blob copy tries again from its source."""


class TlsError(RegistryError):
    """The TLS handshake failed: an unknown CA, or a server that speaks plain HTTP."""


class PolicyError(RegistryError):
    """A request the origin policy refuses: a redirect out of TLS or into an internal address."""


class DigestMismatchError(RegistryError):
    """Content did not hash to the digest it was fetched by: never push it."""


class PlatformMismatchError(RegistryError):
    """The source has no image for the requested platform."""


class CancelledError(Exception):
    """The run was interrupted (Ctrl-C); work stops at the next safe point."""


class LicenceError(InputError):
    """NGC answered 412: the artifact's licence terms must be accepted in the NGC catalog first."""
