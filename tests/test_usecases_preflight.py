"""provider_helper/usecases/preflight.py: before anything is pushed, every source and the target answer and accept
the credentials held for them. Real parts: the session's Distribution registries (the source as nvcr.io behind its
token server, in each of its shapes; the target with htpasswd) and closed loopback ports for hosts that do not
answer. Called directly with a RunConfig, as the use cases call it."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_manifest

from provider_helper.errors import AuthenticationError, InputError, UnreachableError
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig
from provider_helper.usecases.preflight import preflight


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_organisations(source: Factory, ns: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """Two images in each of two NGC organisations (the first path part of the repository)."""
    orgs = [f"{ns}a", f"{ns}b"]
    refs = []
    for org in orgs:
        for name in ("x", "y"):
            source.image(f"{org}/nvcf/{name}", "1")
            refs.append(f"nvcr.io/{org}/nvcf/{name}:1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": r, "group": "test", "name": f"n{i}"} for i, r in enumerate(refs)],
    )
    return manifest, orgs


@pytest.fixture
def anonymous(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.tokens.anonymous = "public"


def _check(sandbox: Sandbox, manifest: Path, target: str, source: str | None = None) -> dict[str, object]:
    config = RunConfig(target=target, manifest=str(manifest), source_registry=source or sandbox.source.host, retries=1)
    registries = config.registries()
    try:
        return dict(preflight(registries, config.jobs(resolve_versions=False), config.access.target.registry))
    finally:
        registries.close()


@pytest.mark.parametrize("shape", ["public", "refused"])
def test_no_key_for_a_source_that_asks_is_one_line_naming_ngc_api_key_and_each_organisation(
    sandbox: Sandbox,
    two_organisations: tuple[Path, list[str]],
    ns: str,
    monkeypatch: pytest.MonkeyPatch,
    anonymous: None,
    shape: str,
) -> None:
    """README preflight: the line names NGC_API_KEY and the organisation (the first path part of the repository),
    "whichever way the token service says no: an anonymous token that opens nothing, or a 401 to any anonymous token
    request"."""
    manifest, orgs = two_organisations
    monkeypatch.delenv("NGC_API_KEY", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(sandbox.docker_config))
    sandbox.tokens.anonymous = shape  # type: ignore[assignment]
    with pytest.raises(InputError) as stopped:
        _check(sandbox, manifest, f"{sandbox.target.host}/{ns}")
    assert str(stopped.value) == (
        f"{sandbox.source.host} (nvcr.io) asks for credentials and NGC_API_KEY is not set: export NGC_API_KEY with an "
        f"API key of the NGC organisation {', '.join(orgs)} (a Personal API key with access to its registry)"
    )


def test_a_refused_key_is_one_line_naming_ngc_api_key_and_the_organisations(
    sandbox: Sandbox, two_organisations: tuple[Path, list[str]], ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, orgs = two_organisations
    monkeypatch.setenv("NGC_API_KEY", "nvapi-WRONG-" + secrets.token_hex(8))
    monkeypatch.setenv("DOCKER_CONFIG", str(sandbox.docker_config))
    with pytest.raises(AuthenticationError) as stopped:
        _check(sandbox, manifest, f"{sandbox.target.host}/{ns}")
    assert str(stopped.value) == (
        f"authentication failed for {sandbox.source.host} (nvcr.io refused NGC_API_KEY: it must be an API key of the "
        f"NGC organisation {', '.join(orgs)} with access to its registry)"
    )


def test_a_target_that_cannot_be_reached_stops_the_run_and_one_that_answers_passes(
    sandbox: Sandbox, two_organisations: tuple[Path, list[str]], ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README preflight: "a target that cannot be reached stops it with one line, exit 1" (a RegistryError)."""
    manifest, _ = two_organisations
    monkeypatch.setenv("NGC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("DOCKER_CONFIG", str(sandbox.docker_config))
    assert _check(sandbox, manifest, f"{sandbox.target.host}/{ns}") == {}
    down = f"127.0.0.1:{closed_port()}"
    with pytest.raises(UnreachableError) as stopped:
        _check(sandbox, manifest, f"{down}/{ns}")
    assert down in str(stopped.value)


def test_a_target_that_wants_credentials_none_are_held_for_is_one_line_naming_what_to_provide(
    sandbox: Sandbox,
    two_organisations: tuple[Path, list[str]],
    ns: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    manifest, _ = two_organisations
    monkeypatch.setenv("NGC_API_KEY", sandbox.api_key)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-logins"))
    with pytest.raises(InputError) as stopped:
        _check(sandbox, manifest, f"{sandbox.target.host}/{ns}")
    assert str(stopped.value) == (
        f"{sandbox.target.host} requires credentials and none were found: log in with docker/podman login, "
        "or use an auth file (DOCKER_CONFIG, REGISTRY_AUTH_FILE)"
    )


def test_a_source_that_cannot_be_reached_is_returned_with_its_reason_not_raised(
    sandbox: Sandbox, ns: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """README preflight: "a source that cannot be reached fails its artifacts at once with that one reason"; the
    others may come from elsewhere, so the run goes on."""
    down = f"127.0.0.1:{closed_port()}"
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/team/a:1", "group": "test"}]
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(sandbox.docker_config))
    found = _check(sandbox, manifest, f"{sandbox.target.host}/{ns}", source=down)
    assert list(found) == [down] and isinstance(found[down], UnreachableError)
