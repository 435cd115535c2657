"""provider_helper/ngc_listing.py: what NGC lists of a resource (its latest version, versions, one version's
metadata, files with sizes, pre-signed URLs), paged 0-based as ngcsdk reads it, against the NGC stand-in (and a
scripted server where a shape the stand-in never gives is the point). Only UPLOAD_COMPLETE versions count."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hostile import Reply, ScriptedServer

from provider_helper.artifacts import ResourceRef
from provider_helper.errors import RegistryError
from provider_helper.ngc_listing import PAGE_SIZE, READY, NgcListing, ResourceFile
from provider_helper.sandbox.ngcserver import NgcStandIn

ORG, TEAM, NAME = "0833294136851237", "nvcf-onprem", "nvcf-base"


@pytest.fixture
def ngc() -> Iterator[NgcStandIn]:
    stand_in = NgcStandIn(personal_key="nvapi-" + secrets.token_hex(8), legacy_key=secrets.token_hex(8))
    yield stand_in
    stand_in.close()


def _ref(version: str | None = "0.1.4") -> ResourceRef:
    return ResourceRef(ORG, TEAM, NAME, version)


def _listing(ngc: NgcStandIn) -> NgcListing:
    return NgcListing(ngc.personal_key, ngc.url, ngc.url)


def test_the_latest_version_is_the_one_ngc_names(ngc: NgcStandIn) -> None:
    for version in ("0.1.2", "0.1.10", "0.1.4"):
        ngc.resources[f"{ORG}/{TEAM}/{NAME}:{version}"] = {"f": b"1"}
    with closing(_listing(ngc)) as listing:
        assert listing.latest_version(_ref(None)) == "0.1.10"


def test_a_resource_naming_no_latest_version_is_one_line(servers: list[Any]) -> None:
    api = ScriptedServer("127.0.0.2", lambda me, m, p, h: Reply(200, {}, json.dumps({"recipe": {}}).encode()))
    servers.append(api)
    with (
        closing(NgcListing("nvapi-" + secrets.token_hex(4), api.url, api.url)) as listing,
        pytest.raises(RegistryError) as refused,
    ):
        listing.latest_version(_ref(None))
    assert str(refused.value) == f"NGC names no latest version of {_ref(None)}"


def test_versions_lists_only_those_whose_upload_is_complete(ngc: NgcStandIn) -> None:
    for version in ("1.0", "1.1", "1.2"):
        ngc.resources[f"{ORG}/{TEAM}/{NAME}:{version}"] = {"f": b"1"}
    ngc.status[f"{ORG}/{TEAM}/{NAME}:1.1"] = "UPLOAD_PENDING"
    with closing(_listing(ngc)) as listing:
        assert listing.versions(_ref(None)) == ["1.0", "1.2"]


def test_a_version_listed_without_a_status_counts_as_complete(servers: list[Any]) -> None:
    body = {"recipeVersions": [{"versionId": "2.0"}, {"versionId": "2.1", "status": "UPLOAD_FAILED"}]}
    api = ScriptedServer("127.0.0.2", lambda me, m, p, h: Reply(200, {}, json.dumps(body).encode()))
    servers.append(api)
    with closing(NgcListing("nvapi-" + secrets.token_hex(4), api.url, api.url)) as listing:
        assert listing.versions(_ref(None)) == ["2.0"]


def test_a_version_is_taken_only_when_ngc_reports_it_upload_complete(ngc: NgcStandIn) -> None:
    assert READY == "UPLOAD_COMPLETE"
    ngc.resources[f"{ORG}/{TEAM}/{NAME}:0.1.4"] = {"f": b"1"}
    with closing(_listing(ngc)) as listing:
        assert listing.version(_ref())["status"] == "UPLOAD_COMPLETE"
        ngc.status[f"{ORG}/{TEAM}/{NAME}:0.1.4"] = "UPLOAD_PENDING"
        with pytest.raises(RegistryError) as refused:
            listing.version(_ref())
    assert str(refused.value) == (
        f"{_ref()} is not ready for download: NGC reports status UPLOAD_PENDING (expected UPLOAD_COMPLETE)"
    )


def test_files_are_read_from_every_page_counted_from_zero_each_path_once(ngc: NgcStandIn) -> None:
    """The stand-in's pages hold two files: five files take pages 0, 1 and 2, asked for 100 a page."""
    files = {f"linux-amd64/f{n}.tar.gz": bytes(n + 1) for n in range(5)}
    ngc.resources[f"{ORG}/{TEAM}/{NAME}:0.1.4"] = files
    with closing(_listing(ngc)) as listing:
        assert sorted(listing.files(_ref()), key=lambda f: f.path) == [
            ResourceFile(path, len(data)) for path, data in sorted(files.items())
        ]
    assert PAGE_SIZE == 100


def test_the_file_listing_is_asked_page_by_page_from_page_zero(servers: list[Any]) -> None:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        number = int(parse_qs(urlparse(path).query)["page-number"][0])
        body = {
            "recipeFiles": [{"path": f"p{number}", "sizeInBytes": number}, {"path": "same", "sizeInBytes": 7}],
            "paginationInfo": {"totalPages": 3},
        }
        return Reply(200, {}, json.dumps(body).encode())

    api = ScriptedServer("127.0.0.2", route)
    servers.append(api)
    with closing(NgcListing("nvapi-" + secrets.token_hex(4), api.url, api.url)) as listing:
        found = listing.files(_ref())
    assert [f.path for f in found] == ["p0", "same", "p1", "p2"], "each path once, in the order listed"
    asked = [parse_qs(urlparse(s.path).query) for s in api.seen]
    assert [(q["page-number"], q["page-size"]) for q in asked] == [(["0"], ["100"]), (["1"], ["100"]), (["2"], ["100"])]
    assert {urlparse(s.path).path for s in api.seen} == {
        f"/v2/org/{ORG}/team/{TEAM}/resources/{NAME}/versions/0.1.4/files"
    }


def test_a_malformed_file_entry_is_one_line(servers: list[Any]) -> None:
    body = {"recipeFiles": [{"path": "f", "sizeInBytes": "many"}], "paginationInfo": {"totalPages": 1}}
    api = ScriptedServer("127.0.0.2", lambda me, m, p, h: Reply(200, {}, json.dumps(body).encode()))
    servers.append(api)
    with (
        closing(NgcListing("nvapi-" + secrets.token_hex(4), api.url, api.url)) as listing,
        pytest.raises(RegistryError) as refused,
    ):
        listing.files(_ref())
    assert str(refused.value) == f"NGC listed a malformed file entry for {_ref()}"


def test_signed_urls_come_from_their_own_paged_listing_and_one_file_from_path(ngc: NgcStandIn) -> None:
    """facts.md: ``…/{name}/{version}/files`` pages of ``filepath[]``/``urls[]``; one file ``?path=P``."""
    files = {f"f{n}": b"x" for n in range(3)}
    ngc.resources[f"{ORG}/{TEAM}/{NAME}:0.1.4"] = files
    ngc.unlisted_urls.add("f1")
    with closing(_listing(ngc)) as listing:
        urls = listing.signed_urls(_ref())
        assert sorted(urls) == ["f0", "f2"], "a path listed without a URL is left out"
        assert all("/storage/" in url for url in urls.values())
        assert "/storage/" in listing.signed_url(_ref(), "f1")
    assert ngc.path_queries == ["f1"]


def test_a_file_ngc_gives_no_url_for_is_one_line(servers: list[Any]) -> None:
    api = ScriptedServer("127.0.0.2", lambda me, m, p, h: Reply(200, {}, json.dumps({"urls": []}).encode()))
    servers.append(api)
    with (
        closing(NgcListing("nvapi-" + secrets.token_hex(4), api.url, api.url)) as listing,
        pytest.raises(RegistryError) as refused,
    ):
        listing.signed_url(_ref(), "values.yaml")
    assert str(refused.value) == f"NGC gave no download URL for values.yaml of {_ref()}"
