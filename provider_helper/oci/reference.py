"""Image references, platforms and the target naming rule.

Grammar follows the distribution reference spec: ``host[:port]/path[:tag][@digest]``. As Docker reads
one, a reference whose first part is not a host (no ``.`` or ``:``, not ``localhost``) is on Docker Hub,
``docker.io``, and a one-part Docker Hub name is ``library/NAME``; ``index.docker.io`` and
``registry-1.docker.io`` are Docker Hub too. References keep ``docker.io`` (how Docker writes them);
``api_host`` gives the host its registry API is at.
Where artifacts land (``Target``, ``chart_tag``) is a contract: docs/CONTRACTS.md, "Target naming".
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from provider_helper.errors import InputError, SettingError
from provider_helper.wording import setting

# ASCII only, and whole strings: used with ``fullmatch`` (``$`` would also match before a trailing
# line break, and ``\w`` any Unicode letter), so a tag or digest a server sends becomes a path, a URL,
# a result or a Terraform output only when it is exactly what the grammar allows.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*", re.ASCII)
_HOST_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?|\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?",
    re.ASCII,
)
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)  # the OCI distribution spec's tag grammar
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}", re.ASCII)
DOCKER_HUB = "docker.io"  # how references name Docker Hub
DOCKER_HUB_API = "registry-1.docker.io"  # where its registry API answers
DOCKER_HUB_NAMES = frozenset({DOCKER_HUB, "index.docker.io", DOCKER_HUB_API})


@dataclass(frozen=True)
class Reference:
    """A registry, a repository, and a tag and/or a digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Last path component: the target repository name by default."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/`` in a registry URL: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def with_registry(self, registry: str) -> Reference:
        return replace(self, registry=registry)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str, *, require_tag: bool = True) -> Reference:
    """Parse ``host/path:tag[@digest]``; raise InputError saying what is wrong."""
    rest, _, digest = text.partition("@")
    if digest and not DIGEST_RE.fullmatch(digest):
        raise InputError(f"invalid digest {digest!r} in reference {text!r}")
    host, slash, path = rest.partition("/")
    if not slash or not _looks_like_host(host):
        host, path = DOCKER_HUB, rest  # no registry host: Docker Hub, as Docker reads it
    host = canonical_host(host)
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not TAG_RE.fullmatch(tag):
            raise InputError(f"invalid tag {tag!r} in reference {text!r}")
    if not _PATH_RE.fullmatch(path):
        raise InputError(f"invalid repository path {path!r} in reference {text!r}")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"  # Docker Hub's official images
    if require_tag and not tag and not digest:
        raise InputError(f"reference {text!r} has neither a tag nor a digest")
    return Reference(registry=host, repository=path, tag=tag, digest=digest or None)


def canonical_host(host: str) -> str:
    """A registry host in lower case, Docker Hub's names as ``docker.io``."""
    host = host.lower()
    return DOCKER_HUB if host in DOCKER_HUB_NAMES else host


def api_host(registry: str) -> str:
    """Where a registry's API answers: ``registry-1.docker.io`` for Docker Hub, else the host itself."""
    return DOCKER_HUB_API if canonical_host(registry) == DOCKER_HUB else registry


def is_registry_host(host: str, *, named: bool = False) -> bool:
    """``host[:port]`` by the reference grammar; ``named``: and one Docker would not read as a Docker Hub
    path (it has a ``.`` or a port, or is ``localhost``)."""
    return _looks_like_host(host) if named else bool(_HOST_RE.fullmatch(host))


def _looks_like_host(host: str) -> bool:
    return bool(_HOST_RE.fullmatch(host)) and ("." in host or ":" in host or host == "localhost")


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1, with or without a port."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    """Where artifacts land: ``REGISTRY[/PREFIX]``."""

    registry: str
    prefix: str = ""

    def repository(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def reference(self, name: str, tag: str) -> Reference:
        return Reference(self.registry, self.repository(name), tag=tag)

    def __str__(self) -> str:
        return f"{self.registry}/{self.prefix}" if self.prefix else self.registry


def parse_target(text: str) -> Target:
    host, _, prefix = text.strip().rstrip("/").partition("/")
    if not host or not _HOST_RE.fullmatch(host):
        raise InputError(
            f"{setting('target')} {text!r}: expected REGISTRY[/PREFIX], "
            "e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster"
        )
    if prefix and not _PATH_RE.fullmatch(prefix):
        raise InputError(
            f"{setting('target')} {text!r}: prefix {prefix!r} is not a valid repository path "
            "(lower case, digits, . _ - /)"
        )
    return Target(registry=host.lower(), prefix=prefix)


def chart_tag(version: str) -> str:
    """OCI tags cannot hold ``+``; Helm writes ``_`` instead."""
    return version.replace("+", "_")


def is_repository_path(name: str) -> bool:
    """A repository path by the distribution grammar: lower-case components joined by ``/``."""
    return bool(_PATH_RE.fullmatch(name))


def is_tag(tag: str) -> bool:
    return bool(TAG_RE.fullmatch(tag))


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def matches(self, os: str | None, architecture: str | None, variant: str | None) -> bool:
        """Whether an image for os/architecture/variant runs here; arm64's variant v8 is its default."""
        if self.os != os or self.architecture != architecture:
            return False
        if self.variant is None:
            return True
        return _normal_variant(architecture, self.variant) == _normal_variant(architecture, variant)


def _normal_variant(architecture: str | None, variant: str | None) -> str | None:
    return "v8" if architecture == "arm64" and variant in (None, "", "v8") else variant


_PLATFORM_RE = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?", re.ASCII)


# The values the OCI image spec takes from Go (GOOS, GOARCH): a platform naming anything else is a typo.
KNOWN_OS = frozenset(
    {
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "illumos",
        "ios",
        "js",
        "linux",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
    }
)
KNOWN_ARCH = frozenset(
    {
        "386",
        "amd64",
        "arm",
        "arm64",
        "loong64",
        "mips",
        "mips64",
        "mips64le",
        "mipsle",
        "ppc64",
        "ppc64le",
        "riscv64",
        "s390x",
        "wasm",
    }
)


def parse_platform(text: str) -> Platform:
    """OS/ARCH[/VARIANT] with an OS and architecture the OCI image spec knows; a typo names the nearest one."""
    if not _PLATFORM_RE.fullmatch(text):
        raise SettingError(
            "platforms", text, "expected OS/ARCH[/VARIANT], e.g. linux/amd64", neutral=f"invalid platform {text!r}"
        )
    parts = text.split("/")
    platform = Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
    for what, value, known in (
        ("operating system", platform.os, KNOWN_OS),
        ("architecture", platform.architecture, KNOWN_ARCH),
    ):
        if value not in known:
            import difflib  # here: only a misspelt platform needs it, and every command imports this module

            nearest = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.5)
            suggestion = text.replace(value, nearest[0], 1) if nearest else "linux/amd64"
            raise SettingError(
                "platforms",
                text,
                f"unknown {what} {value!r} (did you mean {suggestion}?)",
                neutral=f"invalid platform {text!r}",
            )
    return platform
