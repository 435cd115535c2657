"""Unit tests of provider_helper/registry/credentials.py: NGC key, auth files, helpers, Docker Hub keys,
the lines for a missing or refused credential."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from provider_helper.errors import InputError
from provider_helper.registry.credentials import Credential, CredentialStore, auth_files, file_credential, ngc_key


def _docker_config(tmp_path: Path, body: dict[str, Any]) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(body))
    return {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}


def test_credentials_come_from_ngc_key_auth_file_and_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "docker-credential-fake"
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "helped.example.com" ] || exit 1\n'
        'echo \'{"Username":"robot","Secret":"from-helper"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path('/usr/bin')}:{Path('/bin')}")
    auth = base64.b64encode(b"user:pass").decode()
    env = _docker_config(
        tmp_path,
        {"auths": {"https://harbor.example.com": {"auth": auth}}, "credHelpers": {"helped.example.com": "fake"}},
    )
    store = CredentialStore(env={**env, "NGC_API_KEY": "nvapi-secret"})
    assert store.for_host("nvcr.io").get() == Credential("$oauthtoken", "nvapi-secret")
    assert store.for_host("harbor.example.com").get() == Credential("user", "pass")
    assert store.for_host("helped.example.com").get() == Credential("robot", "from-helper")
    assert store.for_host("other.example.com").get() is None
    assert "nvapi-secret" not in repr(store.for_host("nvcr.io").get())


@pytest.mark.parametrize("key", ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_is_found_under_each_key_docker_writes_and_a_mirror_uses_its_own_entry_else_its_upstreams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    helper = tmp_path / "docker-credential-hub"
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "https://index.docker.io/v1/" ] || exit 1\n'
        'echo \'{"Username":"h","Secret":"from-helper"}\'\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path('/usr/bin')}:{Path('/bin')}")
    hub, own = base64.b64encode(b"hubuser:hubpass").decode(), base64.b64encode(b"cache:cachepass").decode()
    env = _docker_config(tmp_path, {"auths": {key: {"auth": hub}, "cache.internal:5000": {"auth": own}}})
    store = CredentialStore(env=env, upstreams={"mirror.internal": "docker.io", "cache.internal:5000": "docker.io"})
    assert store.for_host("registry-1.docker.io").get() == Credential("hubuser", "hubpass")
    assert store.for_host("mirror.internal").get() == Credential("hubuser", "hubpass"), (
        "a mirror without an entry of its own: its upstream's"
    )
    assert store.for_host("cache.internal:5000").get() == Credential("cache", "cachepass"), "a mirror's own entry first"
    assert store.for_host("quay.io").get() is None
    (tmp_path / "h").mkdir()
    helped = CredentialStore(env=_docker_config(tmp_path / "h", {"credHelpers": {key: "hub"}}))
    assert helped.for_host("registry-1.docker.io").get() == Credential("h", "from-helper"), (
        "a helper is asked for https://index.docker.io/v1/"
    )


def test_the_lines_for_a_missing_or_refused_credential_name_what_to_provide_at_nvcr_io_and_docker_hub() -> None:
    keyed = CredentialStore(env={"NGC_API_KEY": "nvapi-x"})
    assert str(keyed.rejected("nvcr.io", ["nvidia"])) == (
        "authentication failed for nvcr.io (NGC_API_KEY was refused: it must be an API key "
        "of the NGC organisation nvidia with access to its registry)"
    )
    bare = CredentialStore(env={})
    assert str(bare.missing("nvcr.io", ["nvidia"])) == (
        "nvcr.io asks for credentials and NGC_API_KEY is not set: export NGC_API_KEY with an "
        "API key of the NGC organisation nvidia (a Personal API key with access to its registry)"
    )
    assert str(bare.missing("registry-1.docker.io")).endswith(
        "(DOCKER_CONFIG, REGISTRY_AUTH_FILE) (Docker Hub: the entry https://index.docker.io/v1/)"
    )
    assert "Docker Hub" not in str(bare.missing("quay.io"))


def test_an_auth_file_password_containing_colons_is_kept_whole(tmp_path: Path) -> None:
    """Docker splits an auth entry at the first ':' only: the rest, colons included, is the password."""
    auth = base64.b64encode(b"robot$ci:pa:ss:word").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"harbor.example:8443": {"auth": auth}}}))
    credential = CredentialStore({"DOCKER_CONFIG": str(tmp_path)}).for_host("harbor.example:8443").get()
    assert credential == Credential("robot$ci", "pa:ss:word")


def test_an_empty_auths_entry_defers_to_the_credential_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Docker Desktop writes: {"auths": {"host": {}}, "credsStore": "desktop"}; a real helper program answers."""
    helper = tmp_path / "bin" / "docker-credential-teststore"
    helper.parent.mkdir()
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$host" = "registry.example:5000" ] && '
        'echo \'{"Username": "u", "Secret": "from-the-store"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"registry.example:5000": {}}, "credsStore": "teststore"}))
    assert file_credential("registry.example:5000", [config]) == Credential("u", "from-the-store")


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


def test_registry_auth_file_is_read_after_docker_config(tmp_path: Path) -> None:
    """README Credentials: "everything else from Docker and Podman auth files ($DOCKER_CONFIG/config.json,
    ~/.docker/config.json, $REGISTRY_AUTH_FILE, ...)": an entry only $REGISTRY_AUTH_FILE holds is found."""
    podman = tmp_path / "podman-auth.json"
    podman.write_text(json.dumps({"auths": {"quay.example:8443": {"auth": base64.b64encode(b"pod:man").decode()}}}))
    (tmp_path / "docker").mkdir()
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "HOME": str(tmp_path), "REGISTRY_AUTH_FILE": str(podman)}
    assert CredentialStore(env=env).for_host("quay.example:8443").get() == Credential("pod", "man")


def test_an_identitytoken_entry_is_an_identity_token_credential(tmp_path: Path) -> None:
    """README Security: "Auth files are read as docker reads them: ... identitytoken exchanged at the realm."
    (the exchange itself: tests/test_auth.py::test_an_identity_token_is_exchanged_as_docker_does)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"registry.example:5000": {"identitytoken": "refresh-me"}}}))
    credential = file_credential("registry.example:5000", [config])
    assert credential is not None and credential.is_identity_token and credential.password == "refresh-me"


def test_through_a_mirror_of_nvcr_io_the_lines_name_the_mirror_and_the_registry_it_stands_for() -> None:
    """README Use: the line for a missing key, as the README quotes it whole (`127.0.0.1:5000 (nvcr.io) asks for
    credentials and NGC_API_KEY is not set: ...`), and for a refused one "through a mirror, `... for 127.0.0.1:5000
    (nvcr.io refused NGC_API_KEY: ...)`". The store as the run builds it for `--source-registry 127.0.0.1:5000`:
    the mirror is an NGC host, read for nvcr.io."""
    import readme_text

    quoted = readme_text.said(r"\(`(127\.0\.0\.1:5000 \(nvcr\.io\) asks for credentials[^`]+)`\)")[1]
    organisation = re.search(r"of the NGC organisation (\S+)", quoted)
    assert organisation is not None, quoted
    mirror = {"ngc_hosts": frozenset({"nvcr.io", "127.0.0.1:5000"}), "upstreams": {"127.0.0.1:5000": "nvcr.io"}}
    bare = CredentialStore(env={}, **mirror)  # type: ignore[arg-type]
    assert str(bare.missing("127.0.0.1:5000", [organisation[1]])) == quoted
    keyed = CredentialStore(env={"NGC_API_KEY": "nvapi-x"}, **mirror)  # type: ignore[arg-type]
    assert str(keyed.rejected("127.0.0.1:5000", ["nvidia"])) == (
        "authentication failed for 127.0.0.1:5000 (nvcr.io refused NGC_API_KEY: it must be an API key "
        "of the NGC organisation nvidia with access to its registry)"
    )
    hub = CredentialStore(env={}, upstreams={"mirror.internal:5000": "docker.io"})
    assert str(hub.missing("mirror.internal:5000")).startswith(
        "mirror.internal:5000 (docker.io) requires credentials and none were found: "
    )


def test_the_auth_files_are_dockers_then_podmans_as_each_tool_looks_them_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Credentials: "Docker and Podman auth files ($DOCKER_CONFIG/config.json, ~/.docker/config.json,
    $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json)": Docker's first, then Podman's."""
    monkeypatch.setenv("HOME", "/home/u")
    assert auth_files({}) == [Path("/home/u/.docker/config.json"), Path("/home/u/.config/containers/auth.json")]
    assert auth_files({"DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/run/user/1"}) == [
        Path("/d/config.json"),
        Path("/run/user/1/containers/auth.json"),
        Path("/home/u/.config/containers/auth.json"),
    ]
    assert auth_files({"REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/run/user/1"}) == [
        Path("/home/u/.docker/config.json"),
        Path("/a.json"),
    ], "REGISTRY_AUTH_FILE is Podman's file when it is set"
