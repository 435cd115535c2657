"""Unit tests of provider_helper/ngc_api.py against the NGC stand-in and scripted servers: listings, tokens and
sizes that are too long or malformed, storage that trickles or refuses, and signed URLs kept out of errors."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hostile import Reply, ScriptedServer

from provider_helper.artifacts import ResourceRef
from provider_helper.errors import DeniedError, DigestMismatchError, RegistryError, TransientError
from provider_helper.ngc_api import NgcClient, safe_relative, version_dir
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.ngcserver import NgcStandIn

# A key no honest server asks for: the tests assert where it never arrives.
CANARY = "nvapi-CANARY" + secrets.token_hex(8)


def test_ngc_download_errors_carry_no_signed_url_query_in_process(tmp_path: Path) -> None:
    """The error itself, before any redaction at the output: the signed URL's query is its credential."""
    from provider_helper.artifacts import ResourceRef
    from provider_helper.errors import RegistryError
    from provider_helper.ngc_api import NgcClient
    from provider_helper.retry import RetryPolicy

    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    ngc.resources["org/team/res:1.0"] = {"f.bin": b"x" * 10}
    ngc.storage_status = 503
    client = NgcClient(ngc.personal_key, ngc.url, ngc.url, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(RegistryError) as raised:
            client.download(ResourceRef("org", "team", "res", "1.0"), tmp_path / "ngc")
    finally:
        client.close()
        ngc.close()
    assert "/storage/" in str(raised.value) and "X-Amz-Signature" not in str(raised.value)


@pytest.mark.parametrize(
    ("pages", "per_page", "refused"),
    [
        (10**9, 1, "NGC listing of nvcf-onprem/helm-values: more than 1000 pages"),
        (1, 100_001, "NGC listing of nvcf-onprem/helm-values: more than 100000 entries"),
        ("many", 1, "malformed paginationInfo"),
    ],
)
def test_an_ngc_listing_too_long_or_malformed_is_refused_after_one_page(
    servers: list[Any], pages: object, per_page: int, refused: str
) -> None:
    """A listing that claims a billion pages, names too many versions on one, or cannot say how many it has."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        body = {
            "recipeVersions": [{"versionId": f"1.{i}", "status": "UPLOAD_COMPLETE"} for i in range(per_page)],
            "paginationInfo": {"index": 0, "size": 100, "totalPages": pages},
        }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match=refused),
    ):
        client.versions(ResourceRef("nvcf-onprem", None, "helm-values", None))
    assert len(api.seen) == 1


@pytest.mark.parametrize("lifetime", ["soon", -5, "NaN"])
def test_an_ngc_token_with_a_lifetime_that_is_not_a_positive_number_is_one_clear_line(
    servers: list[Any], lifetime: object
) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        return Reply(
            200, {"Content-Type": "application/json"}, json.dumps({"token": "t", "expires_in": lifetime}).encode()
        )

    authn = ScriptedServer("127.0.0.2", route)
    servers.append(authn)
    with (
        closing(NgcClient("legacy-key-" + secrets.token_hex(4), api_url=authn.url, authn_url=authn.url)) as client,
        pytest.raises(RegistryError, match="token lifetime that is not a positive number"),
    ):
        client.latest_version(ResourceRef("nvcf-onprem", None, "helm-values", None))


def test_an_ngc_version_whose_total_size_is_not_a_number_is_one_clear_line(servers: list[Any], tmp_path: Path) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.split("?")[0].endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": "lots"}
            }
        else:
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": 10}], "paginationInfo": {"totalPages": 1}}
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match="a total size that is not a number: 'lots'"),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def _ngc_with_storage(storage: Reply) -> Callable[[ScriptedServer, str, str, dict[str, str]], Reply]:
    """An NGC API serving one version of one 20,000-byte file, whose pre-signed URL answers ``storage``."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.startswith("/storage/"):
            return storage
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": 20_000}
            }
        elif bare.endswith("/versions/1.0/files"):
            body = {
                "recipeFiles": [{"path": "values.yaml", "sizeInBytes": 20_000}],
                "paginationInfo": {"totalPages": 1},
            }
        else:
            body = {
                "filepath": ["values.yaml"],
                "urls": [f"{me.url}/storage/values.yaml?X-Amz-Signature=s3cr3t"],
                "paginationInfo": {"totalPages": 1},
            }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    return route


def test_an_ngc_storage_download_that_trickles_is_given_up_as_stalled(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Storage gets the blob rule of the registry client: a minimum rate over a window (lowered here so the
    test takes a second), not only httpx's per-read timeout, which a byte every few seconds resets."""
    # 5 KB/s
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * 100, repeat=200)), chunk_delay=0.02)
    servers.append(api)
    monkeypatch.setenv("NVCF_MIRROR_BLOB_RATE_WINDOW", "0.5")
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "20000")
    started = time.monotonic()
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(
            TransientError,
            match=r"download values.yaml of nvcf-onprem/helm-values:1.0: .*slower than 20 KiB/s: the stream is stalled",
        ),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert time.monotonic() - started < 3, "given up after a window, not after the whole trickle"
    assert not (tmp_path / "helm-values_v1.0" / "values.yaml").exists()


def test_a_refused_pre_signed_url_says_so_and_asks_for_no_credential(servers: list[Any], tmp_path: Path) -> None:
    """No credential goes to storage, so its 403 is worded as a refused URL, not as "check the credentials"."""
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(403, {}, b"<Error><Code>AccessDenied</Code></Error>")))
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(DeniedError) as refused,
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert "the pre-signed URL was refused" in str(refused.value) and "credentials" not in str(refused.value)
    assert "s3cr3t" not in str(refused.value)


def test_an_ngc_listing_of_huge_pages_is_refused_by_its_bytes(servers: list[Any]) -> None:
    """Five pages of 6 MiB each (one version id padded out): by pages and entries it is small, by bytes
    it passes 16 MiB on the third page, which is where it stops."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        body = {
            "recipeVersions": [{"versionId": "1.0", "status": "UPLOAD_COMPLETE", "description": "x" * (6 << 20)}],
            "paginationInfo": {"index": 0, "size": 100, "totalPages": 5},
        }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client,
        pytest.raises(RegistryError, match="NGC listing of nvcf-onprem/helm-values: more than 16 MiB"),
    ):
        client.versions(ResourceRef("nvcf-onprem", None, "helm-values", None))
    assert len(api.seen) == 3


def test_an_ngc_listing_larger_than_the_free_disk_is_refused_before_any_download(
    servers: list[Any], tmp_path: Path
) -> None:
    """NGC's listing says how much a version takes: a petabyte is refused at once, not written until the disk is
    full."""
    huge = 10**15

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.startswith("/storage/"):
            return Reply(200, {}, b"x" * 100)
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": huge}
            }
        elif bare.endswith("/versions/1.0/files"):
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": huge}], "paginationInfo": {"totalPages": 1}}
        else:
            body = {
                "filepath": ["values.yaml"],
                "urls": [f"{me.url}/storage/values.yaml"],
                "paginationInfo": {"totalPages": 1},
            }
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    from provider_helper.errors import InputError

    with (
        closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(InputError, match=rf"NGC lists {huge} bytes of files, more than the \d+ bytes free"),
    ):
        client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path / "dl")
    assert [s for s in api.seen if s.path.startswith("/storage/")] == []


def _stand_in(files: dict[str, bytes]) -> NgcStandIn:
    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    ngc.resources["0833294136851237/nvcf-ncp-staging/nvcf-cli:0.0.22"] = files
    return ngc


CLI_REF = ResourceRef("0833294136851237", "nvcf-ncp-staging", "nvcf-cli", "0.0.22")


def test_files_land_as_the_ngc_cli_writes_them_name_v_version_then_their_path(tmp_path: Path) -> None:
    """facts.md: "The ngc CLI writes <name>_v<version>/<files>, e.g. nvcf-cli_v0.0.22/linux-amd64/..."; README:
    "./ngc/nvcf-base_v0.1.4/…"."""
    files = {"linux-amd64/nvcf-cli-linux-amd64-0.0.22.tar.gz": b"amd64", "README.md": b"readme"}
    ngc = _stand_in(files)
    try:
        with closing(NgcClient(ngc.personal_key, ngc.url, ngc.url)) as client:
            written = client.download(CLI_REF, tmp_path)
    finally:
        ngc.close()
    assert version_dir(CLI_REF) == "nvcf-cli_v0.0.22"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "nvcf-cli_v0.0.22/README.md",
        "nvcf-cli_v0.0.22/linux-amd64/nvcf-cli-linux-amd64-0.0.22.tar.gz",
    ]
    assert {p.relative_to(tmp_path / "nvcf-cli_v0.0.22").as_posix(): p.read_bytes() for p in written} == files


def test_a_file_the_url_pages_leave_out_is_asked_for_by_its_path(tmp_path: Path) -> None:
    files = {"a": b"1", "b": b"22", "c": b"333"}
    ngc = _stand_in(files)
    ngc.unlisted_urls.add("b")
    try:
        with closing(NgcClient(ngc.personal_key, ngc.url, ngc.url)) as client:
            written = client.download(CLI_REF, tmp_path)
    finally:
        ngc.close()
    assert ngc.path_queries == ["b"]
    assert {p.name: p.read_bytes() for p in written} == files


def test_a_listing_that_does_not_add_up_to_the_versions_size_is_refused_before_any_download(
    servers: list[Any], tmp_path: Path
) -> None:
    """README: "every file's size is checked": the file list against the version's totalSizeInBytes first."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        bare = path.split("?")[0]
        if bare.endswith("/versions/1.0"):
            body: dict[str, Any] = {
                "recipeVersion": {"versionId": "1.0", "status": "UPLOAD_COMPLETE", "totalSizeInBytes": 30}
            }
        else:
            body = {"recipeFiles": [{"path": "values.yaml", "sizeInBytes": 20}], "paginationInfo": {"totalPages": 1}}
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    ref = ResourceRef("nvcf-onprem", None, "helm-values", "1.0")
    with closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url)) as client, pytest.raises(RegistryError) as bad:
        client.download(ref, tmp_path)
    assert str(bad.value) == f"{ref}: NGC lists files of 20 bytes in all but a version of 30"
    assert list(tmp_path.iterdir()) == []
    assert not any("/storage/" in s.path or s.path.split("?")[0].endswith("/helm-values/1.0/files") for s in api.seen)


@pytest.mark.parametrize(("sent", "refused"), [(20_000, None), (20_001, "more than"), (19_999, "short")])
def test_each_file_must_be_the_size_ngc_lists_no_more_and_no_less(
    servers: list[Any], tmp_path: Path, sent: int, refused: str | None
) -> None:
    """README: "every file's size is checked": exactly the listed 20,000 bytes are kept, one byte more or less is
    refused and leaves no file (a short one is retried, here once, as an interrupted download)."""
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * sent)))
    servers.append(api)
    ref = ResourceRef("nvcf-onprem", None, "helm-values", "1.0")
    path = tmp_path / "helm-values_v1.0" / "values.yaml"
    with closing(NgcClient(CANARY, api_url=api.url, authn_url=api.url, retry=RetryPolicy(attempts=1))) as client:
        if refused is None:
            assert client.download(ref, tmp_path) == [path]
            assert path.read_bytes() == b"x" * 20_000
            return
        with pytest.raises(RegistryError) as bad:
            client.download(ref, tmp_path)
    if refused == "more than":
        assert isinstance(bad.value, DigestMismatchError)
        assert str(bad.value) == f"download values.yaml of {ref}: more than the 20000 bytes NGC lists"
    else:
        assert "values.yaml: 19999 of 20000 bytes so far" in str(bad.value)
    assert not path.exists() and list(path.parent.iterdir()) == []


@pytest.mark.parametrize("path", ["../escape", "a/../../escape", "/etc/escape", "a\\..\\escape", ""])
def test_a_file_path_leaving_the_resource_is_refused(path: str) -> None:
    with pytest.raises(RegistryError) as refused:
        safe_relative(path)
    assert str(refused.value) == f"NGC listed a file path outside the resource: {path!r}"


def test_a_listing_naming_a_path_outside_the_version_writes_nothing_there(tmp_path: Path) -> None:
    ngc = _stand_in({"../escape": b"planted", "ok": b"1"})
    try:
        with closing(NgcClient(ngc.personal_key, ngc.url, ngc.url)) as client, pytest.raises(RegistryError) as bad:
            client.download(CLI_REF, tmp_path / "dest")
    finally:
        ngc.close()
    assert str(bad.value) == "NGC listed a file path outside the resource: '../escape'"
    assert not (tmp_path / "dest" / "escape").exists() and not (tmp_path / "escape").exists()


def test_an_ngc_file_longer_than_ngc_lists_is_refused_and_one_of_the_listed_size_kept(
    servers: list[Any], tmp_path: Path
) -> None:
    """README Helm charts and NGC resources: "every file's size is checked". Storage sending one byte more than the
    20,000 NGC lists: one line saying so, and no file kept; exactly 20,000: kept whole."""
    from provider_helper.errors import DigestMismatchError

    ref = ResourceRef("nvcf-onprem", None, "helm-values", "1.0")
    longer = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * 20_001)))
    servers.append(longer)
    with (
        closing(NgcClient(CANARY, api_url=longer.url, authn_url=longer.url, retry=RetryPolicy(attempts=1))) as client,
        pytest.raises(DigestMismatchError) as refused,
    ):
        client.download(ref, tmp_path / "longer")
    assert (
        str(refused.value) == "download values.yaml of nvcf-onprem/helm-values:1.0: more than the 20000 bytes NGC lists"
    )
    assert not [p for p in (tmp_path / "longer").rglob("*") if p.is_file()]
    exact = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * 20_000)))
    servers.append(exact)
    with closing(NgcClient(CANARY, api_url=exact.url, authn_url=exact.url, retry=RetryPolicy(attempts=1))) as client:
        [kept] = client.download(ref, tmp_path / "exact")
    assert kept.read_bytes() == b"x" * 20_000


def test_the_ngc_api_and_token_urls_default_to_the_readmes_and_follow_their_environment_variables(
    servers: list[Any], tmp_path: Path
) -> None:
    """README env table: "`NVCF_MIRROR_NGC_API_URL`, `NVCF_MIRROR_NGC_AUTHN_URL` | the NGC API and its token service
    (default `https://api.ngc.nvidia.com`, `https://authn.nvidia.com`): for a proxy or a stand-in". Unset: the
    README's two URLs; set: a download goes to the stand-in they name, and nowhere else."""
    import readme_text

    from provider_helper.ngc_api import client_from_env

    defaults = readme_text.said(r"its token service \(default `(https://[^`]+)`, `(https://[^`]+)`\)")
    with closing(client_from_env({})) as default:
        assert (default.api_url, default.authn_url) == (defaults[1], defaults[2])
    api = ScriptedServer("127.0.0.2", _ngc_with_storage(Reply(200, {}, b"x" * 20_000)))
    servers.append(api)
    env = {"NVCF_MIRROR_NGC_API_URL": api.url, "NVCF_MIRROR_NGC_AUTHN_URL": api.url, "NGC_API_KEY": CANARY}
    with closing(client_from_env(env, retry=RetryPolicy(attempts=1))) as client:
        assert (client.api_url, client.authn_url) == (api.url, api.url)
        [kept] = client.download(ResourceRef("nvcf-onprem", None, "helm-values", "1.0"), tmp_path)
    assert kept.read_bytes() == b"x" * 20_000 and api.seen
