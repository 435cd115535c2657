"""Where registry credentials come from: NGC_API_KEY, Docker/Podman auth files, credential helpers.

Docker Hub is keyed as Docker keys it: ``https://index.docker.io/v1/`` (what ``docker login`` writes, and
what a credential helper is asked for), ``docker.io``, ``index.docker.io`` or ``registry-1.docker.io``.
A mirror (``--source-map``) uses its own entry, else its upstream's, as Docker's daemon sends Docker
Hub's credentials to its registry mirrors. Secrets are read from the environment, files and helper
programs only, never from argv.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from provider_helper.errors import AuthenticationError, InputError
from provider_helper.oci.reference import DOCKER_HUB, DOCKER_HUB_NAMES, canonical_host
from provider_helper.redact import remember

NGC_REGISTRY = "nvcr.io"
NGC_USERNAME = "$oauthtoken"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"  # how docker login keys Docker Hub in config.json and its helpers


IDENTITY_TOKEN_USER = "<token>"  # docker/cli's marker: the password is an OAuth2 refresh token


@dataclass(frozen=True)
class Credential:
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        remember(self.password)

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, password=<redacted>)"

    @property
    def is_identity_token(self) -> bool:
        """An identity token (``docker login`` with OAuth, ``identitytoken`` in config.json)."""
        return self.username == IDENTITY_TOKEN_USER


class CredentialSource(Protocol):
    """Gives the credential for one registry; ``refresh`` asks for a new one after a 401."""

    def get(self, *, refresh: bool = False) -> Credential | None: ...


@dataclass(frozen=True)
class StaticCredential:
    credential: Credential | None

    def get(self, *, refresh: bool = False) -> Credential | None:
        return self.credential


def ngc_key(env: Mapping[str, str]) -> str | None:
    """NGC_API_KEY, refused (without being shown) when it holds spaces or control characters."""
    key = env.get("NGC_API_KEY", "").strip()
    remember(key)
    if key and (not key.isprintable() or any(c.isspace() for c in key)):
        raise InputError("NGC_API_KEY holds spaces, line breaks or control characters: set it to the key alone")
    return key or None


def ngc_credential(env: Mapping[str, str]) -> Credential | None:
    key = ngc_key(env)
    return Credential(NGC_USERNAME, key) if key else None


def auth_files(env: Mapping[str, str]) -> list[Path]:
    """Docker's config.json first, then Podman's auth.json, as the two tools look them up."""
    files: list[Path] = []
    docker_dir = env.get("DOCKER_CONFIG")
    files.append(Path(docker_dir) / "config.json" if docker_dir else Path.home() / ".docker" / "config.json")
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(Path(env["REGISTRY_AUTH_FILE"]))
    else:
        if env.get("XDG_RUNTIME_DIR"):
            files.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
        files.append(Path.home() / ".config" / "containers" / "auth.json")
    return files


def file_credential(host: str, files: Iterable[Path]) -> Credential | None:
    """Look ``host`` up in auth files: credHelpers, then auths, then credsStore. Docker Hub under any of its keys."""
    hub = canonical_host(host) == DOCKER_HUB
    names = DOCKER_HUB_NAMES if hub else frozenset({host})
    asked = DOCKER_HUB_KEY if hub else host  # what a helper is asked for
    for path in files:
        config = _read_json(path)
        if config is None:
            continue
        helpers = config.get("credHelpers") or {}
        helper = (
            next((h for key, h in helpers.items() if _bare(key) in names and isinstance(h, str)), None)
            if isinstance(helpers, dict)
            else None
        )
        if helper:
            return helper_credential(helper, asked)
        entry = _auth_entry(config.get("auths") or {}, names)
        found = _decode_entry(entry, host, path) if entry is not None else None
        if found is not None:
            return found
        # An entry without credentials ({} as Docker Desktop writes) defers to the store, as docker/cli does.
        if config.get("credsStore"):
            found = helper_credential(config["credsStore"], asked)
            if found:
                return found
    return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(f"{path}: not valid JSON (a Docker/Podman auth file)") from None
    return data if isinstance(data, dict) else None


def _bare(key: str) -> str:
    """An auth file key (``https://index.docker.io/v1/``, ``host:port``) as a host."""
    return key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]


def _auth_entry(auths: dict[str, Any], names: frozenset[str]) -> dict[str, Any] | None:
    for key, entry in auths.items():
        if _bare(key) in names and isinstance(entry, dict):
            return entry
    return None


def _decode_entry(entry: dict[str, Any], host: str, path: Path) -> Credential | None:
    if entry.get("identitytoken"):
        return Credential(IDENTITY_TOKEN_USER, str(entry["identitytoken"]))
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise InputError(f"{path}: the 'auth' entry for {host} is not base64 user:password") from None
        return Credential(user, password)
    if entry.get("username") and entry.get("password"):
        return Credential(entry["username"], entry["password"])
    return None


def helper_credential(helper: str, host: str) -> Credential | None:
    """Ask ``docker-credential-<helper> get``; "not found" is not an error."""
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run([program, "get"], input=host, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        raise InputError(
            f"credential helper {program} for {host} is not installed (named in your Docker/Podman auth file)"
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"credential helper {program} did not answer for {host} within 30 s") from None
    if done.returncode != 0:
        return None  # helpers exit 1 with "credentials not found"; their stderr is not ours to echo
    try:
        answer = json.loads(done.stdout)
        return Credential(answer["Username"], answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise InputError(f"credential helper {program} gave an unreadable answer for {host}") from None


@dataclass
class CredentialStore:
    """Resolve the credential for a registry host, once per host."""

    env: Mapping[str, str]
    ngc_hosts: frozenset[str] = frozenset({NGC_REGISTRY})
    explicit: dict[str, CredentialSource] = field(default_factory=dict)  # --target-username, ECR tokens
    # mirror host -> the upstream it is read for (--source-map)
    upstreams: Mapping[str, str] = field(default_factory=dict)

    def for_host(self, host: str) -> CredentialSource:
        if host in self.explicit:
            return self.explicit[host]
        return StaticCredential(self._lookup(host))

    def _lookup(self, host: str) -> Credential | None:
        if host in self.ngc_hosts:
            ngc = ngc_credential(self.env)
            if ngc:
                return ngc
        files = auth_files(self.env)
        upstream = self.upstreams.get(host)
        own = file_credential(host, files)
        return own if own is not None or upstream is None else file_credential(upstream, files)

    def _named(self, host: str) -> str:
        upstream = self.upstreams.get(host)
        return f"{host} ({upstream})" if upstream and upstream != host else host

    def missing(self, host: str, organisations: Sequence[str] = ()) -> InputError:
        """The error for a registry that asks for credentials when none were found: which one to provide."""
        if host in self.ngc_hosts and ngc_key(self.env) is None:
            whose = f" of the NGC organisation {', '.join(organisations)}" if organisations else ""
            return InputError(
                f"{self._named(host)} asks for credentials and NGC_API_KEY is not set: export NGC_API_KEY with an "
                f"API key{whose} (a Personal API key with access to its registry)"
            )
        key = (
            f" (Docker Hub: the entry {DOCKER_HUB_KEY})"
            if DOCKER_HUB in (canonical_host(host), self.upstreams.get(host))
            else ""
        )
        return InputError(
            f"{self._named(host)} requires credentials and none were found: log in with docker/podman login, "
            f"or use an auth file (DOCKER_CONFIG, REGISTRY_AUTH_FILE){key}"
        )

    def rejected(self, host: str, organisations: Sequence[str] = ()) -> AuthenticationError:
        """The error for a registry that refuses the credentials we hold: which credential, and for NGC the
        organisation it must be a key of."""
        if host in self.ngc_hosts and ngc_key(self.env) is not None:
            whose = f" of the NGC organisation {', '.join(organisations)}" if organisations else ""
            refused = (
                f"{self.upstreams[host]} refused NGC_API_KEY" if host in self.upstreams else "NGC_API_KEY was refused"
            )
            return AuthenticationError(host, f"{refused}: it must be an API key{whose} with access to its registry")
        return AuthenticationError(self._named(host), "credentials rejected")
