"""A registry's ``WWW-Authenticate`` challenge, and the token scopes a request needs. The challenge says
what to do: realm, service and scope are taken from it, never assumed (nvcr.io sends no service, and its
realm can change between challenges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_REPO_PATH_RE = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")


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
