"""Unit tests of provider_helper/usecases/preflight.py: before anything is pushed, a source that wants a key we do
not hold stops the run with the line naming NGC_API_KEY and the organisations, for each way a token service says
no. The source is a scripted token registry (tests/hostile.py) standing in for nvcr.io through
--source-registry; the preflight is called as a run calls it, with the run's own registries and jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from helpers import write_manifest
from hostile import Reply, ScriptedServer

from provider_helper.errors import InputError
from provider_helper.session import RunConfig
from provider_helper.usecases.preflight import preflight

OPEN_ORG, CLOSED_ORG = "nvidia", "0833294136851237"


def _token_registry(anonymous: Literal["granted", "refused"]) -> ScriptedServer:
    """A token registry: ``granted`` hands out anonymous tokens that open only OPEN_ORG's repositories (nvcr.io's
    answer for a private organisation); ``refused`` answers 401 to any anonymous token request."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/token"):
            if anonymous == "refused":
                return Reply(401, {"Content-Type": "application/json"}, b'{"errors": [{"code": "UNAUTHORIZED"}]}')
            return Reply(200, {"Content-Type": "application/json"}, json.dumps({"token": "anonymous"}).encode())
        challenge = {"WWW-Authenticate": f'Bearer realm="{me.url}/token",service="stand-in"'}
        if headers.get("authorization") != "Bearer anonymous":
            return Reply(401, challenge)
        if path == "/v2/":
            return Reply(200)
        if path.startswith(f"/v2/{OPEN_ORG}/"):
            return Reply(404, {"Content-Type": "application/json"}, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')
        return Reply(401, challenge, b'{"errors": [{"code": "DENIED", "message": "access denied"}]}')

    return ScriptedServer("127.0.0.1", route)


def _preflight(source: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InputError:
    monkeypatch.delenv("NGC_API_KEY", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "no-auth-file"))
    entries = [
        {"type": "image", "source": f"nvcr.io/{org}/{kind}{n}:1", "group": "test"}
        for org, kind in ((OPEN_ORG, "open"), (CLOSED_ORG, "closed"))
        for n in (1, 2)
    ]
    config = RunConfig(
        target="", manifest=str(write_manifest(tmp_path / "m.yaml", entries)), source_registry=source.host
    )
    registries = config.source_registries()
    try:
        with pytest.raises(InputError) as stopped:
            preflight(registries, config.jobs(resolve_versions=False), None)
    finally:
        registries.close()
    return stopped.value


def _line(host: str, organisations: str) -> str:
    return (
        f"{host} (nvcr.io) asks for credentials and NGC_API_KEY is not set: export NGC_API_KEY with an API key "
        f"of the NGC organisation {organisations} (a Personal API key with access to its registry)"
    )


def test_an_anonymous_token_that_opens_nothing_stops_the_run_naming_ngc_api_key_and_that_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Use: "the line names `NGC_API_KEY` and the NGC organisation the key must belong to ..., whichever way
    the token service says no: an anonymous token that opens nothing". Only the organisation that refused is named."""
    source = _token_registry("granted")
    servers.append(source)
    assert str(_preflight(source, tmp_path, monkeypatch)) == _line(source.host, CLOSED_ORG)


def test_a_401_to_any_anonymous_token_request_stops_the_run_naming_ngc_api_key_and_every_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: list[ScriptedServer]
) -> None:
    """README Use: "... or a 401 to any anonymous token request": every organisation the run reads is named, as
    one line, before any artifact is tried."""
    source = _token_registry("refused")
    servers.append(source)
    assert str(_preflight(source, tmp_path, monkeypatch)) == _line(source.host, f"{CLOSED_ORG}, {OPEN_ORG}")
