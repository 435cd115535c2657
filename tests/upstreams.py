"""Stand-ins for the upstream registries a release names: nvcr.io, Docker Hub, quay.io and ghcr.io, each a
Distribution registry behind a token server with that upstream's shape (realm path, ``service``, who gets
anonymous tokens), and a factory that seeds it. The ``upstreams`` fixture (tests/conftest.py) starts them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.registry import LocalRegistry, token_auth
from provider_helper.sandbox.tokens import TokenServer

HUB_USER, HUB_PASSWORD = "hubuser", "hub-" + secrets.token_hex(8)


@dataclass
class StandIn:
    """A registry standing in for an upstream, its token service and a factory that seeds it."""

    tokens: TokenServer
    registry: LocalRegistry
    factory: Factory

    @property
    def host(self) -> str:
        return self.registry.host

    def stop(self) -> None:
        self.factory.close()
        self.registry.stop()
        self.tokens.stop()


def _stand_in(workdir: Path, tokens: TokenServer) -> StandIn:
    tokens.start()
    registry = LocalRegistry(workdir, auth=token_auth(tokens, workdir)).start()
    return StandIn(tokens, registry, Factory(registry.url, lambda repo: "Bearer " + tokens.mint([repo])))


def start_upstreams(root: Path) -> dict[str, StandIn]:
    """nvcr.io (``/proxy_auth``, no service, nvidia/ public), Docker Hub (``/token``, service registry.docker.io,
    its official and the user namespaces the releases name public, ``private/`` for a logged-in account), quay.io
    (``/v2/auth``) and ghcr.io (``/token``), each granting anonymous pull tokens for public repositories."""
    hub_public = ("library/", "alpine/", "natsio/", "victoriametrics/")
    return {
        "nvcr.io": _stand_in(root / "nvcr", TokenServer(api_key="nvapi-" + secrets.token_urlsafe(16))),
        "docker.io": _stand_in(
            root / "hub",
            TokenServer(
                api_key="unused",
                public_prefixes=hub_public,
                path="/token",
                service="registry.docker.io",
                users={HUB_USER: HUB_PASSWORD},
            ),
        ),
        "quay.io": _stand_in(
            root / "quay", TokenServer(api_key="unused", public_prefixes=("",), path="/v2/auth", service="quay.io")
        ),
        "ghcr.io": _stand_in(
            root / "ghcr", TokenServer(api_key="unused", public_prefixes=("",), path="/token", service="ghcr.io")
        ),
    }


def source_maps(upstreams: dict[str, StandIn], *names: str) -> list[str]:
    """``--source-map UPSTREAM=STAND-IN`` for each named upstream (all of them when none is named)."""
    return [arg for name in (names or tuple(upstreams)) for arg in ("--source-map", f"{name}={upstreams[name].host}")]
