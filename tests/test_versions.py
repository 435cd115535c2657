"""Versions that follow the publisher: --set-version NAME=latest and `outdated`, for images, OCI charts
and NGC resources (classic charts: test_helm.py), against the real registry and the NGC stand-in."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.errors import RegistryError
from provider_helper.mirror.versions import flavour, latest_from, newer, newest
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.ngcserver import NgcStandIn
from provider_helper.sandbox.stack import Sandbox


def test_versions_order_by_semver_ignoring_tags_that_are_not_versions() -> None:
    tags = ["1.2.0", "1.10.0", "v1.9.0", "latest", "1.11.0-rc1", "sha256-abc.sig", "2.5.1-nv-1.1.0"]
    assert newest(tags) == "1.10.0"
    assert newest(["2.5.1-nv-1.1.0", "2.5.1-nv-1.2.0"]) == "2.5.1-nv-1.2.0"  # only pre-releases: the newest of them
    assert newer("1.9.0", tags) == ["1.10.0", "1.11.0-rc1"], "2.5.1-nv-1.1.0 is of another flavour"


def test_latest_keeps_a_tags_flavour_the_newest_version_of_the_same_flavour() -> None:
    nats = ["0.19.2-nonroot", "0.20.0", "0.20.1-nonroot", "0.21.0-rc1-nonroot", "latest"]
    assert newest(nats, like="0.19.2-nonroot") == "0.20.1-nonroot", "not 0.20.0: the flavour stays; releases first"
    assert newer("0.19.2-nonroot", nats) == ["0.20.1-nonroot", "0.21.0-rc1-nonroot"]
    assert newest(["2.2.2-nv-1", "2.5.1-nv-1.1.0", "2.6.0"], like="2.2.2-nv-1") == "2.5.1-nv-1.1.0"
    assert newest(nats, like="0.19.0") == "0.20.0", "an unflavoured tag stays unflavoured"
    assert newest(["0.1.0-nonroot", "0.2.0-nonroot"]) == "0.2.0-nonroot", "none pinned, none unflavoured: every version"
    flavours = [flavour(v) for v in ("0.19.2-nonroot", "2.5.1-nv-1.1.0", "1.2.0-rc1", "1.2.0")]
    assert flavours == [("nonroot",), ("nv",), (), ()]
    with pytest.raises(RegistryError, match="no published version of the flavour -nonroot"):
        latest_from(lambda: ["0.20.0"], "nats-box", like="0.19.2-nonroot")


def test_latest_resolves_images_and_oci_charts_from_the_tag_list(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    images = {
        tag: source.image(f"{ns}/nvidia/app", tag) for tag in ("1.2.0", "1.10.0", "v1.9.0", "latest", "1.11.0-rc1")
    }
    for version in ("0.9.0", "1.0.0"):
        source.chart(f"{ns}/nvidia/helm-app", version)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1.2.0", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/helm-app:0.9.0", "group": "test"},
        ],
    )
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    plan = run_cli(
        "plan",
        *common,
        "--set-version",
        "app=latest",
        "--set-version",
        "helm-app=latest",
        "--output",
        "json",
        env=sandbox.env(),
    )
    assert plan.returncode == 0, plan.stderr
    planned = {a["key"]: a for a in json.loads(plan.stdout)["artifacts"]}
    assert set(planned) == {"image:app:1.10.0", "chart:helm-app:1.0.0"}
    assert all(a["resolved_from"] == "latest" for a in planned.values())

    done = run_cli(
        "mirror",
        *common,
        "--set-version",
        "app=latest",
        "--set-version",
        "helm-app=latest",
        "--result-file",
        str(tmp_path / "r.json"),
        env=sandbox.env(),
    )
    assert done.returncode == 0, done.stderr
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.10.0", authfile=sandbox.docker_config / "config.json")
    assert sha256(raw) == images["1.10.0"].digest

    listed = run_cli(
        "outdated",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--output",
        "json",
        env=sandbox.env(),
    )
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)["artifacts"]}
    assert rows["app"]["newer"] == ["v1.9.0", "1.10.0", "1.11.0-rc1"]
    assert rows["helm-app"]["newer"] == ["1.0.0"]


def test_set_version_latest_keeps_the_pinned_tags_flavour(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    for tag in ("0.19.2-nonroot", "0.20.0", "0.20.1-nonroot"):
        source.image(f"{ns}/nvidia/nats-box", tag)
    entry = {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nats-box:0.19.2-nonroot", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    plan = run_cli(
        "plan",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--set-version",
        "nats-box=latest",
        "--output",
        "json",
        env=sandbox.env(),
    )
    assert plan.returncode == 0, plan.stderr
    assert [a["key"] for a in json.loads(plan.stdout)["artifacts"]] == ["image:nats-box:0.20.1-nonroot"]


def test_save_records_the_resolved_version_so_load_is_exact(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    for tag in ("1.0.0", "1.1.0"):
        source.image(f"{ns}/nvidia/app", tag)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1.0.0", "group": "test"}]
    )
    layout = tmp_path / "layout"
    run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--set-version",
        "app=latest",
        "--to",
        str(layout),
        env=sandbox.env(),
        check=True,
    )
    entry = json.loads((layout / "nvcf-mirror.lock.json").read_text())["artifacts"][0]
    assert entry["tag"] == "1.1.0" and entry["entry"]["source"].endswith("/nvidia/app:1.1.0")


def test_latest_and_outdated_for_an_ngc_resource(tmp_path: Path) -> None:
    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    try:
        for version in ("0.1.4", "0.1.5", "0.1.10"):
            ngc.resources[f"0833294136851237/nvcf-ncp-staging/nvcf-base:{version}"] = {
                f"nvcf-base-{version}.tar.gz": version.encode() * 100
            }
        manifest = write_manifest(
            tmp_path / "m.yaml",
            [{"type": "resource", "source": "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4", "group": "r"}],
            groups=[{"name": "r"}],
        )
        env = {"NGC_API_KEY": ngc.personal_key, "NVCF_MIRROR_NGC_API_URL": ngc.url}
        done = run_cli(
            "resources",
            "download",
            "--manifest",
            str(manifest),
            "--set-version",
            "nvcf-base=latest",
            "--dest",
            str(tmp_path / "d"),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "d" / "nvcf-base_v0.1.10" / "nvcf-base-0.1.10.tar.gz").exists()
        listed = run_cli("outdated", "--manifest", str(manifest), "--all-groups", "--output", "json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["artifacts"][0]["newer"] == ["0.1.5", "0.1.10"]
    finally:
        ngc.close()


def test_outdated_reports_an_unreachable_source_on_its_line_and_exits_0(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0.0", "group": "test"}]
    )
    listed = run_cli(
        "outdated",
        "--manifest",
        str(manifest),
        "--source-registry",
        "127.0.0.1:9",
        "--retries",
        "1",
        "--output",
        "json",
    )
    assert listed.returncode == 0, listed.stderr
    row = json.loads(listed.stdout)["artifacts"][0]
    assert row["newer"] == [] and "127.0.0.1:9" in row["error"]


def test_numeric_pre_release_identifiers_compare_as_numbers() -> None:
    """SemVer 11.4: rc.10 comes after rc.2 (numbers as numbers), and a number before a word."""
    published = ["1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-rc.9", "1.0.0-rc.1.5"]
    assert newest(published) == "1.0.0-rc.10"
    assert newer("1.0.0-rc.2", [*published, "1.0.0-rc.beta", "1.0.0"]) == [
        "1.0.0-rc.9",
        "1.0.0-rc.10",
        "1.0.0-rc.beta",
        "1.0.0",
    ]


def test_latest_and_outdated_ignore_ngc_versions_whose_upload_is_not_complete(tmp_path: Path) -> None:
    """The stand-in's latestVersionIdStr names 0.1.10, still uploading: latest is 0.1.5, outdated does not list
    0.1.10."""
    ngc = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key=os.urandom(8).hex())
    try:
        for version in ("0.1.4", "0.1.5", "0.1.10"):
            ngc.resources[f"0833294136851237/nvcf-ncp-staging/nvcf-base:{version}"] = {
                f"nvcf-base-{version}.tar.gz": version.encode() * 100
            }
        ngc.status["0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.10"] = "UPLOAD_PENDING"
        manifest = write_manifest(
            tmp_path / "m.yaml",
            [{"type": "resource", "source": "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4", "group": "r"}],
            groups=[{"name": "r"}],
        )
        env = {"NGC_API_KEY": ngc.personal_key, "NVCF_MIRROR_NGC_API_URL": ngc.url}
        done = run_cli(
            "resources",
            "download",
            "--manifest",
            str(manifest),
            "--set-version",
            "nvcf-base=latest",
            "--dest",
            str(tmp_path / "d"),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert [p.name for p in (tmp_path / "d").iterdir()] == ["nvcf-base_v0.1.5"]
        listed = run_cli("outdated", "--manifest", str(manifest), "--all-groups", "--output", "json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["artifacts"][0]["newer"] == ["0.1.5"]
    finally:
        ngc.close()


def test_outdated_prints_a_table_by_default_with_the_error_on_its_line(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0.0", "group": "test"}]
    )
    listed = run_cli(
        "outdated",
        "--manifest",
        str(manifest),
        "--source-registry",
        "127.0.0.1:9",
        "--retries",
        "1",
        env={"COLUMNS": "300"},
    )
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "app" in line)
    assert "1.0.0" in row and "up to date" in row and "127.0.0.1:9" in row, listed.stdout


def test_latest_for_one_entry_of_a_name_listed_twice_resolves_that_entry_and_a_collision_is_refused(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """v0.5 lists nvcf-openbao twice: NAME:TAG=latest resolves that entry only; resolved onto the other's tag:
    refused."""
    for tag in ("2.2.2-nv-1", "2.5.1-nv-1.1.0", "2.6.0-nv-1"):
        source.image(f"{ns}/nvidia/openbao", tag)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/openbao:2.2.2-nv-1", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/openbao:2.5.1-nv-1.1.0", "group": "test"},
        ],
    )
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    plan = run_cli("plan", *common, "--set-version", "openbao:2.2.2-nv-1=latest", "--output", "json", env=sandbox.env())
    assert plan.returncode == 0, plan.stderr
    keys = {a["key"] for a in json.loads(plan.stdout)["artifacts"]}
    assert keys == {"image:openbao:2.6.0-nv-1", "image:openbao:2.5.1-nv-1.1.0"}
    # the newest is also what the second entry is pinned to: found only once latest is resolved
    pins = ["--set-version", "openbao:2.2.2-nv-1=latest", "--set-version", "openbao:2.5.1-nv-1.1.0=2.6.0-nv-1"]
    both = run_cli("plan", *common, *pins, env=sandbox.env())
    assert both.returncode == 2 and "two artifacts land on one target openbao:2.6.0-nv-1" in both.stderr, both.stderr
    assert len(both.stderr.strip().splitlines()) == 1


def test_a_piped_outdated_table_does_not_wrap_at_80_columns_or_split_names(tmp_path: Path) -> None:
    name = "a-repository-name-long-enough-to-wrap-at-eighty-columns-in-a-table"
    entry = {"type": "image", "source": f"nvcr.io/org/{name}:1.0.0", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    listed = run_cli(
        "outdated",
        "--manifest",
        str(manifest),
        "--source-registry",
        "127.0.0.1:9",
        "--retries",
        "1",
        env={"COLUMNS": ""},
    )
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if name in line]
    assert len(rows) == 1 and "127.0.0.1:9" in rows[0] and len(rows[0]) > 80, listed.stdout
    table_rows = [line for line in listed.stdout.splitlines() if "│" in line or "┃" in line]
    assert len(table_rows) == 2, "one line for the header, one for the artifact"


@pytest.mark.parametrize("word", ["alpha", "beta", "rc", "pre", "preview", "dev", "snapshot"])
def test_each_pre_release_word_marks_a_pre_release_not_a_flavour(word: str) -> None:
    """README Versions: "alpha, beta, rc, pre, preview, dev and snapshot mark pre-releases, not flavours"."""
    tags = ["1.0.0", f"1.1.0-{word}1", f"1.2.0-{word}"]
    assert flavour(f"1.2.0-{word}") == () and flavour(f"1.1.0-{word}1") == ()
    assert newest(tags) == "1.0.0", "a release before any pre-release"
    assert newest(tags, like="1.0.0") == "1.0.0"
    assert newer("1.0.0", tags) == [f"1.1.0-{word}1", f"1.2.0-{word}"], "same flavour (none) as 1.0.0"


def test_latest_keeps_the_flavour_of_the_entry_it_resolves_when_a_name_is_listed_twice(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """Review of the first-hour merge: NAME=latest keeps the flavour of the entry it resolves, not that of the
    name's first entry in the manifest (here in a group that is not selected)."""
    for tag in ("0.19.0", "0.19.2-nonroot", "0.20.0", "0.20.1-nonroot"):
        source.image(f"{ns}/nvidia/nats-box", tag)
    image = f"nvcr.io/{ns}/nvidia/nats-box"
    where = ["--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}"]
    groups: list[dict[str, Any]] = [{"name": "test", "default": True}, {"name": "other"}]
    apart = write_manifest(
        tmp_path / "apart.yaml",
        [
            {"type": "image", "source": f"{image}:0.19.2-nonroot", "group": "other"},
            {"type": "image", "source": f"{image}:0.19.0", "group": "test"},
        ],
        groups,
    )
    plan = run_cli(
        "plan", "--manifest", str(apart), *where, "--set-version", "nats-box=latest", "--output", "json",
        env=sandbox.env(),
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    assert [a["key"] for a in json.loads(plan.stdout)["artifacts"]] == ["image:nats-box:0.20.0"]


def test_a_helm_index_that_cannot_be_read_while_versions_are_spelt_leaves_the_chart_to_its_copy(
    tmp_path: Path,
) -> None:
    """README Use: "mirror ... 1 some artifacts failed (the rest still copied)"; Versions: "a source it cannot ask
    is reported on that artifact's line". Spelling a classic chart's version as its repository does reads the
    repository's index; an index that cannot be read then (a registry error, an OS error) leaves the version as
    pinned, for the copy of that chart to report, and never stops the resolving of the others. The index is
    stood in for (the fault is the point; test_helm.py reads a real one)."""
    from provider_helper.manifest import load
    from provider_helper.mirror.versions import Resolver

    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {
                "type": "chart",
                "repo": "https://charts.example/stable",
                "chart": "app",
                "version": "v1.2.3",
                "group": "test",
            },
            {"type": "image", "source": "nvcr.io/org/img:1.0", "group": "test"},
        ],
    )
    artifacts = load(manifest).select([])

    class Unreadable:
        def __init__(self, fault: Exception) -> None:
            self.fault = fault

        def versions(self, artifact: Any) -> list[str]:
            raise self.fault

        def latest(self, artifact: Any, like: str | None = None) -> str:
            raise AssertionError("nothing asked for latest")

    for fault in (RegistryError("charts.example: 503 Service Unavailable"), OSError("connection reset")):
        resolved = Resolver(Unreadable(fault)).resolve(artifacts, latest=())
        assert [(a.name, a.version_text) for a in resolved] == [("app", "v1.2.3"), ("img", "1.0")], fault
