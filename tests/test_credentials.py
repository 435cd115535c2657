"""provider_helper/registry/credentials.py: where a registry's credential comes from."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from provider_helper.errors import InputError
from provider_helper.registry.credentials import Credential, CredentialStore, ngc_key


@pytest.mark.parametrize("key", ["nvapi-abc def123456", "nvapi-abc\tdef123456", "nvapi-abc\ndef123456"])
def test_an_ngc_api_key_with_a_space_or_line_break_inside_is_refused_without_being_shown(key: str) -> None:
    """README Security: "An NGC_API_KEY with spaces or line breaks is refused without being shown."
    (Spaces around the key are trimmed; one inside it is the key pasted with something else.)"""
    with pytest.raises(InputError) as refused:
        ngc_key({"NGC_API_KEY": key})
    line = str(refused.value)
    assert line == "NGC_API_KEY holds spaces, line breaks or control characters: set it to the key alone"
    assert all(piece not in line for piece in key.split())
    assert ngc_key({"NGC_API_KEY": "  nvapi-abcdef123456\n"}) == "nvapi-abcdef123456"


@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_a_credential_helper_is_asked_for_docker_hub_as_https_index_docker_io_v1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """README Credentials: Docker Hub's entry is found under "https://index.docker.io/v1/ (what docker login
    writes, and what a credential helper is asked for)". The fake helper on PATH records what it was asked,
    through credHelpers and through credsStore; another registry's helper is asked for its host."""
    asked = tmp_path / "asked"
    helper = tmp_path / "bin" / "docker-credential-recorder"
    helper.parent.mkdir()
    helper.write_text(
        f'#!/bin/sh\nread server\nprintf "%s\\n" "$server" >> {asked}\necho \'{{"Username":"u","Secret":"s3cret"}}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helper.parent}:/usr/bin:/bin")
    for kind, config in (
        ("credHelpers", {"credHelpers": {"docker.io": "recorder", "harbor.example.com": "recorder"}}),
        ("credsStore", {"credsStore": "recorder"}),
    ):
        folder = tmp_path / kind
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        store = CredentialStore(env={"DOCKER_CONFIG": str(folder), "HOME": str(folder)})
        assert store.for_host(host).get() == Credential("u", "s3cret")
        assert store.for_host("harbor.example.com").get() == Credential("u", "s3cret")
    assert asked.read_text().splitlines() == ["https://index.docker.io/v1/", "harbor.example.com"] * 2
