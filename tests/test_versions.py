"""Versions that follow the publisher: --set-version NAME=latest and `outdated`, for images, OCI charts
and NGC resources (classic charts: test_helm.py), against the real registry and the NGC stand-in."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.artifacts import Artifact
from provider_helper.errors import RegistryError
from provider_helper.mirror.versions import Resolver, flavour, latest_from, newer, newest
from provider_helper.oci.reference import parse_reference
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
    assert "1.0.0" in row and "unknown" in row and "127.0.0.1:9" in row, listed.stdout


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


def _plan(sandbox: Sandbox, ns: str, manifest: Path, *pins: str) -> Any:
    """``plan --output json`` of ``manifest`` with ``--set-version`` ``pins``: the document, or the one error line."""
    flags = [flag for pin in pins for flag in ("--set-version", pin)]
    where = ["--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}"]
    done = run_cli("plan", "--manifest", str(manifest), *where, *flags, "--output", "json", env=sandbox.env())
    if done.returncode != 0:
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        return done.stderr.strip()
    return json.loads(done.stdout)


def test_two_entries_of_one_name_both_pinned_to_latest_are_compared_once_latest_is_resolved(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """Review finding: ``A:TAG1=latest`` and ``A:TAG2=latest`` were refused as two artifacts on one target
    ``A:latest``, the word itself. README Versions: compared once resolved, two versions are two artifacts; one
    version of one source is copied once, under the first entry; one tag of two sources is refused naming both."""
    for tag in ("1.0.0", "1.1.0", "1.0.0-nonroot", "1.2.0-nonroot"):
        source.image(f"{ns}/nvidia/app", tag)
    for tag in ("1.0.5", "1.1.0"):
        source.image(f"{ns}/other/app", tag)
    app = f"nvcr.io/{ns}/nvidia/app"
    made = itertools.count()

    def entries(*sources: str) -> Path:
        listed = [{"type": "image", "source": s, "group": "test"} for s in sources]
        return write_manifest(tmp_path / f"m{next(made)}.yaml", listed)

    flavours = _plan(sandbox, ns, entries(f"{app}:1.0.0", f"{app}:1.0.0-nonroot"), "app:1.0.0=latest",
                     "app:1.0.0-nonroot=latest")  # fmt: skip
    assert isinstance(flavours, dict), flavours
    assert [(a["key"], a.get("resolved_from")) for a in flavours["artifacts"]] == [
        ("image:app:1.1.0", "latest"),
        ("image:app:1.2.0-nonroot", "latest"),
    ]
    same = entries(f"{app}:1.0.0", f"{app}:1.1.0")
    one = _plan(sandbox, ns, same, "app:1.0.0=latest", "app:1.1.0=latest")
    assert isinstance(one, dict), one
    assert [(a["key"], a["source"]) for a in one["artifacts"]] == [("image:app:1.1.0", f"{app}:1.1.0")]
    where = ["--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}"]
    copied = run_cli(
        "mirror", "--manifest", str(same), *where, "--set-version", "app:1.0.0=latest", "--set-version",
        "app:1.1.0=latest", "--result-file", str(tmp_path / "r.json"), env=sandbox.env(),
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert [(a["key"], a["status"]) for a in result["artifacts"]] == [("image:app:1.1.0", "copied")], "one copy"
    offline = run_cli(
        "plan", "--offline", "--manifest", str(same), "--target", f"{sandbox.target.host}/{ns}", "--set-version",
        "app:1.0.0=latest", "--set-version", "app:1.1.0=latest", "--output", "json",
    )  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    assert [a["key"] for a in json.loads(offline.stdout)["artifacts"]] == ["image:app:latest"] * 2, "not resolved"
    apart = entries(f"{app}:1.0.0", f"nvcr.io/{ns}/other/app:1.0.5")
    refused = _plan(sandbox, ns, apart, "app:1.0.0=latest", "app:1.0.5=latest")
    assert isinstance(refused, str) and refused.startswith(
        f"nvcf-mirror: error: two artifacts land on one target app:1.1.0: {app}:1.1.0 ("
    ), refused
    assert f"nvcr.io/{ns}/other/app:1.1.0 (" in refused, "both entries named"


def test_an_entry_the_manifest_tags_latest_is_resolved_only_when_a_pin_names_that_entry(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """Review finding: an entry published as ``latest`` (its manifest tag) was resolved to the newest version
    whenever its name was in a ``=latest`` pin, even one naming the name's other entry. README Versions: it is
    copied as ``latest`` unless the pin names it (``NAME:latest=latest``, or ``NAME=latest`` for a name listed
    once)."""
    for tag in ("latest", "1.0.0", "1.1.0"):
        source.image(f"{ns}/nvidia/tool", tag)
    tool = f"nvcr.io/{ns}/nvidia/tool"
    listed = [{"type": "image", "source": f"{tool}:{tag}", "group": "test"} for tag in ("latest", "1.0.0")]
    both = write_manifest(tmp_path / "both.yaml", listed)
    other = _plan(sandbox, ns, both, "tool:1.0.0=latest")
    assert isinstance(other, dict), other
    assert [(a["key"], a.get("resolved_from")) for a in other["artifacts"]] == [
        ("image:tool:latest", None),
        ("image:tool:1.1.0", "latest"),
    ], "the entry tagged latest stays latest"
    itself = _plan(sandbox, ns, both, "tool:latest=latest")
    assert isinstance(itself, dict), itself
    assert [(a["key"], a.get("resolved_from")) for a in itself["artifacts"]] == [
        ("image:tool:1.1.0", "latest"),
        ("image:tool:1.0.0", None),
    ], "pinned by its own NAME:TAG, it is resolved"
    alone = write_manifest(tmp_path / "alone.yaml", listed[:1])
    named = _plan(sandbox, ns, alone, "tool=latest")
    assert isinstance(named, dict), named
    assert [(a["key"], a.get("resolved_from")) for a in named["artifacts"]] == [("image:tool:1.1.0", "latest")]


def test_latest_with_nothing_published_is_one_line_naming_the_artifact() -> None:
    with pytest.raises(RegistryError) as caught:
        latest_from(lambda: ["latest", "sha256-abc.sig"], "nvcr.io/nvidia/nvcf/nvcf-api")
    assert str(caught.value) == "nvcr.io/nvidia/nvcf/nvcf-api has no published version to call latest"
    with pytest.raises(RegistryError) as flavoured:
        latest_from(lambda: ["0.20.0"], "nats-box", like="0.19.2-nonroot")
    assert (
        str(flavoured.value)
        == "nats-box has no published version of the flavour -nonroot (of 0.19.2-nonroot) to call latest"
    )
    assert latest_from(lambda: ["1.0.0", "v1.2.0", "1.3.0-rc1"], "x") == "v1.2.0"


def test_newer_lists_only_versions_newer_than_the_pinned_one_oldest_first() -> None:
    published = ["1.0.0", "1.1.0", "0.9.0", "1.0.1", "latest"]
    assert newer("1.0.0", published) == ["1.0.1", "1.1.0"]
    assert newer("1.1.0", published) == []
    assert newer("not-a-version", published) == []


class _Published:
    """What a source publishes, in process: the ``Available`` protocol the resolver reads (registries, Helm
    indexes and NGC meet it in the tests above and in test_helm.py)."""

    def __init__(self, versions: list[str] | None) -> None:
        self.published = versions
        self.asked_like: list[str | None] = []

    def versions(self, artifact: Artifact) -> list[str]:
        if self.published is None:
            raise RegistryError("index.yaml: not found")
        return self.published

    def latest(self, artifact: Artifact, like: str | None = None) -> str:
        self.asked_like.append(like)
        return latest_from(lambda: self.versions(artifact), artifact.name, like)


def _chart(version: str) -> Artifact:
    return Artifact(
        type="chart", group="g", name="gpu-operator", where="m:1", repo="https://helm.ngc.nvidia.com/nvidia",
        chart="gpu-operator", version=version,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("pinned", "published", "tag"),
    [
        ("25.3.1", ["v25.3.1", "v25.3.0"], "v25.3.1"),
        ("v25.3.1", ["25.3.1"], "25.3.1"),
        ("25.3.1", ["25.3.1", "v25.3.1"], "25.3.1"),
        ("25.3.1", ["v24.9.0"], "25.3.1"),
        ("25.3.1", None, "25.3.1"),
    ],
    ids=["v-published", "without-v-published", "as-pinned-first", "not-published", "index-unreadable"],
)
def test_a_classic_chart_takes_the_spelling_its_repository_publishes_and_keeps_its_own_otherwise(
    pinned: str, published: list[str] | None, tag: str
) -> None:
    """README Helm charts: "NGC publishes gpu-operator as v25.3.1: the manifest may say 25.3.1 or v25.3.1, the
    tag is v25.3.1"; a version the index does not list is left as pinned, for the copy to report."""
    (resolved,) = Resolver(_Published(published)).resolve([_chart(pinned)], [])
    assert (resolved.version, resolved.tag, resolved.resolved_from) == (tag, tag, None)


def test_latest_resolves_the_named_entries_only_keeping_the_flavour_pinned_before() -> None:
    published = _Published(["0.19.2-nonroot", "0.20.0", "0.20.1-nonroot"])
    nats = Artifact(type="image", group="g", name="nats-box", where="m:1",
                    image=parse_reference("nvcr.io/nvidia/nvcf/nats-box:latest"))  # fmt: skip
    other = Artifact(type="image", group="g", name="other", where="m:2",
                     image=parse_reference("nvcr.io/nvidia/nvcf/other:latest"))  # fmt: skip
    resolved = Resolver(published).resolve([nats, other], ["nats-box"], ["0.19.2-nonroot", None])
    assert [(a.tag, a.resolved_from) for a in resolved] == [("0.20.1-nonroot", "latest"), ("latest", None)]
    assert published.asked_like == ["0.19.2-nonroot"]


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
