"""The manifest: bundled NVCF list, schema errors with file:line, plan output, import."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli

from provider_helper import manifest as manifest_mod
from provider_helper.errors import InputError

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mycluster"
DATA = Path(__file__).resolve().parent / "data"
REFERENCE_LIST = DATA / "nvcf-artifacts-v0.5.yaml"  # the v0.5 facts, kept in the repository


def _plan_json(*args: str) -> dict[str, Any]:
    done = run_cli("plan", "--offline", "--output", "json", "--target", ECR, *args)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def _reference_locations() -> list[str]:
    listed = yaml.safe_load(REFERENCE_LIST.read_text())["groups"]
    return [item["location"] for items in listed.values() for item in items]


def test_offline_plan_of_all_groups_lists_every_tagged_artifact_of_the_v05_list() -> None:
    doc = _plan_json("--all-groups")
    sources = {a["source"] for a in doc["artifacts"]}
    tagged = [loc for loc in _reference_locations() if " " not in loc and ":" in loc.rsplit("/", 1)[-1]]
    assert len(tagged) == 64  # 69 entries less gpu-operator (pinned separately) and the four unpinned ones
    for location in tagged:
        # resources are written org/team/name:version, classic charts repo/chart:version, as the list does
        assert location in sources or location.removeprefix("nvcr.io/") in sources, location
    targets = [a["target"] for a in doc["artifacts"]]
    assert all(t.startswith(ECR + "/") for t in targets)
    assert len(targets) == len(set(targets)) == 69
    assert f"{ECR}/nvcf-openbao:2.5.1-nv-1.1.0" in targets
    assert f"{ECR}/nvcf-container-cache:0.25.6" in targets and f"{ECR}/gxcache:0.8.2" in targets


def test_default_selection_is_what_automated_ecr_mirroring_includes() -> None:
    names = {a["key"].split(":")[1] for a in _plan_json()["artifacts"]}
    assert {"streaming-proxy", "gdn-streaming", "nvcf-openbao", "helm-nvca-operator", "nvcf-gateway-routes"} <= names
    assert not names & {"gxcache", "ddcs", "usd-content-cache", "ddcs-dist-kv", "gpu-operator"}


def test_unpinned_artifacts_are_skipped_with_a_way_to_pin_them() -> None:
    doc = _plan_json("--group", "supporting")
    skipped = {
        a["key"]: a["error"]
        for a in doc["artifacts"]
        if a["status"] == "skipped" and "has no version" in (a["error"] or "")
    }
    assert set(skipped) == {
        "image:gpu-operator-validator:<unpinned>",
        "image:k8s-device-plugin:<unpinned>",
        "chart:aws-ebs-csi-driver:<unpinned>",
        "chart:csi-driver-smb:<unpinned>",
    }
    assert "--set-version k8s-device-plugin=VERSION" in skipped["image:k8s-device-plugin:<unpinned>"]
    pinned = _plan_json("--group", "supporting", "--set-version", "k8s-device-plugin=v0.17.0")
    entry = next(a for a in pinned["artifacts"] if a["key"].startswith("image:k8s-device-plugin"))
    assert entry["status"] == "planned" and entry["target"] == f"{ECR}/k8s-device-plugin:v0.17.0"


def test_gpu_operator_uses_the_mirroring_page_version() -> None:
    doc = _plan_json("--group", "supporting")
    assert any(a["key"] == "chart:gpu-operator:25.3.1" for a in doc["artifacts"])


GOOD = {"type": "image", "source": "nvcr.io/a/b:1", "group": "g"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: nvcf-mirror/v1\ngroups: [\n", ":3: not valid YAML"),
        (
            {"artifacts": [{**GOOD, "type": "imagee"}]},
            "m.yaml:6: artifacts[0].type: 'imagee' is not one of image, chart, resource",
        ),
        ({"artifacts": [{**GOOD, "source": "nvcr.io/a/b:bad tag!"}]}, "artifacts[0].source: invalid tag"),
        ({"artifacts": [{**GOOD, "group": "nope"}]}, "artifacts[0].group: unknown group 'nope'"),
        (
            {"artifacts": [{"type": "chart", "repo": "https://h/x", "chart": "c", "group": "g"}]},
            "artifacts[0]: 'version' is a required property",
        ),
        ({"artifacts": [GOOD, {**GOOD}]}, "artifacts[1]: duplicate target b:1, also at"),
        ({"artifacts": [{**GOOD, "platforms": ["amd64"]}]}, "artifacts[0].platforms[0]: invalid platform 'amd64'"),
    ],
    ids=[
        "not-yaml",
        "unknown-type",
        "bad-reference",
        "unknown-group",
        "chart-without-version",
        "duplicate",
        "bad-platform",
    ],
)
def test_bad_manifests_exit_2_with_one_line_naming_file_line_and_path(
    tmp_path: Path, text: object, expected: str
) -> None:
    path = tmp_path / "m.yaml"
    if isinstance(text, dict):
        doc = {"apiVersion": "nvcf-mirror/v1", "groups": [{"name": "g", "default": True}], **text}
        text = yaml.safe_dump(doc, sort_keys=False)
    path.write_text(str(text))
    for args in (["manifest", "validate", str(path)], ["plan", "--offline", "--manifest", str(path), "--target", ECR]):
        done = run_cli(*args)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert str(path) in lines[0] and expected in lines[0], lines[0]


def test_every_problem_of_a_manifest_is_reported_in_one_run_each_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: nvcf-mirror/v1\n"
        "groups:\n  - name: g\n    default: true\n"
        "artifacts:\n"
        "  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"  # line 6: fine
        "  - {type: image, source: 'nvcr.io/a/c:1', group: nope}\n"  # line 7: unknown group
        "  - {type: image, source: 'nvcr.io/a/d:1', group: g, platforms: [linux/amd65]}\n"  # line 8: a typo
        "  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"  # line 9: duplicate of line 6
    )
    done = run_cli("manifest", "validate", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert [line.split(": ")[2] for line in lines] == [f"{path}:7", f"{path}:8", f"{path}:9"], lines
    assert "unknown group 'nope'" in lines[0]
    assert "unknown architecture 'amd65' (did you mean linux/amd64?)" in lines[1]
    assert "duplicate target b:1, also at" in lines[2]
    schema = tmp_path / "s.yaml"
    schema.write_text(
        "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: g\nartifacts:\n  - {type: imagee, source: x, group: g}\n"
        "  - {type: image, group: g}\n"
    )
    done = run_cli("manifest", "validate", str(schema))
    assert done.returncode == 2 and [line.split(": ")[2] for line in done.stderr.strip().splitlines()] == [
        f"{schema}:5",
        f"{schema}:6",
    ], done.stderr


def test_schema_errors_and_the_rules_a_schema_cannot_express_are_reported_together_in_one_run(tmp_path: Path) -> None:
    """Six mistakes, one run: two schema errors, an unknown group, a platform typo, a bad reference, a duplicate."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: nvcf-mirror/v1\n"
        "groups:\n  - name: g\n    default: true\n"
        "artifacts:\n"
        "  - {type: imagee, source: 'nvcr.io/a/x:1', group: g}\n"  # line 6: schema
        "  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"  # line 7: fine
        "  - {type: image, source: 'nvcr.io/a/c:1', group: nope}\n"  # line 8: unknown group
        "  - {type: image, group: g}\n"  # line 9: schema (no source)
        "  - {type: image, source: 'nvcr.io/a/d:1', group: g, platforms: [linux/amd65]}\n"  # line 10: a typo
        "  - {type: image, source: 'NOT A REF', group: g}\n"  # line 11: not a reference
        "  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"  # line 12: duplicate of line 7
    )
    for args in (["manifest", "validate", str(path)], ["plan", "--offline", "--manifest", str(path), "--target", ECR]):
        done = run_cli(*args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert [line.split(": ")[2] for line in lines] == [f"{path}:{n}" for n in (6, 8, 9, 10, 11, 12)], lines


def test_a_platform_typo_is_refused_up_front_with_the_nearest_valid_value() -> None:
    for typo, nearest in (
        ("linux/amd65", "linux/amd64"),
        ("linus/arm64", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
    ):
        done = run_cli("plan", "--offline", "--target", ECR, "--platform", typo)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().endswith(f"(did you mean {nearest}?)"), done.stderr


def test_line_numbers_point_at_the_offending_entry(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: g\nartifacts:\n"
        "  - type: image\n    source: nvcr.io/a/b:1\n    group: g\n"
        "  - type: image\n    source: NOT A REF\n    group: g\n"
    )
    done = run_cli("manifest", "validate", str(path))
    assert done.returncode == 2 and f"{path}:9: artifacts[1].source:" in done.stderr


def test_bad_flags_exit_2_with_one_line() -> None:
    for args in (
        ["plan", "--offline", "--target", ECR, "--group", "nope"],
        ["plan", "--offline", "--target", ECR, "--platform", "x"],
        ["plan", "--offline"],
        ["mirror", "--target", ECR, "--jobs", "0"],
    ):
        done = run_cli(*args)
        assert done.returncode == 2, args
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr


def test_a_pin_for_an_artifact_of_an_unselected_group_names_the_group_and_an_unknown_name_the_manifest() -> None:
    unselected = run_cli("plan", "--offline", "--target", "r.example/c1", "--set-version", "nvcf-cli=0.0.30")
    assert unselected.returncode == 2
    assert unselected.stderr.strip() == (
        "nvcf-mirror: error: --set-version nvcf-cli=0.0.30: nvcf-cli is in group deployment-resources, "
        "which is not selected"
    )
    unknown = run_cli("plan", "--offline", "--target", "r.example/c1", "--set-version", "no-such-thing=1")
    assert unknown.returncode == 2 and "no artifact of" in unknown.stderr and "has that name" in unknown.stderr


def test_exclude_leaves_named_artifacts_out_and_an_unknown_name_names_the_manifest() -> None:
    everything = {a["key"].split(":")[1] for a in _plan_json()["artifacts"]}
    assert {"nvcf-openbao", "gdn-streaming"} <= everything
    doc = _plan_json("--exclude", "nvcf-openbao", "--exclude", "gdn-streaming")
    left = {a["key"].split(":")[1] for a in doc["artifacts"]}
    assert left == everything - {"nvcf-openbao", "gdn-streaming"}
    unknown = run_cli("plan", "--offline", "--target", ECR, "--exclude", "no-such-thing")
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr
    assert unknown.stderr.startswith("nvcf-mirror: error: --exclude no-such-thing: no artifact of ")
    assert "nvcf-v0.5.yaml has that name" in unknown.stderr, unknown.stderr
    pinned = run_cli(
        "plan", "--offline", "--target", ECR, "--exclude", "nvcf-openbao", "--set-version", "nvcf-openbao=2.6.0"
    )
    assert (
        pinned.returncode == 2
        and "--set-version nvcf-openbao=2.6.0: nvcf-openbao is left out by --exclude" in pinned.stderr
    )


def test_a_numeric_setting_that_is_not_a_number_is_one_line_before_anything_runs() -> None:
    for name, value in (
        ("NVCF_MIRROR_PROGRESS_INTERVAL", "ten"),
        ("NVCF_MIRROR_MIN_BLOB_RATE", "-1"),
        ("NVCF_MIRROR_BLOB_RATE_WINDOW", "inf"),
    ):
        done = run_cli("plan", "--offline", "--target", ECR, env={name: value})
        assert (
            done.returncode == 2
            and done.stderr.strip() == f"nvcf-mirror: error: {name}={value!r}: expected a number, 0 or more"
        ), done.stderr
    adapter = subprocess.run(
        [sys.executable, "-m", "provider_helper.terraform"],
        input="{}",
        capture_output=True,
        text=True,
        env={**os.environ, "NVCF_MIRROR_PROGRESS_INTERVAL": "ten"},
    )
    assert (
        adapter.returncode == 2
        and adapter.stderr.strip() == "nvcf-mirror: NVCF_MIRROR_PROGRESS_INTERVAL='ten': expected a number, 0 or more"
    )


def test_import_turns_skopeo_sync_yaml_and_reference_lists_into_manifests(tmp_path: Path) -> None:
    sync = tmp_path / "sync.yaml"
    sync.write_text(
        yaml.safe_dump(
            {
                "nvcr.io": {
                    "images": {"nvidia/a": ["1.0", "2.0"], "nvidia/all": []},
                    "images-by-tag-regex": {"nvidia/r": "^v"},
                }
            }
        )
    )
    listing = tmp_path / "list.txt"
    listing.write_text("# mine\nnvcr.io/nvidia/b:3\n\nharbor.example.com/p/c:4\n")
    for source, expected in (
        (sync, {"nvcr.io/nvidia/a:1.0", "nvcr.io/nvidia/a:2.0"}),
        (listing, {"nvcr.io/nvidia/b:3", "harbor.example.com/p/c:4"}),
    ):
        out = tmp_path / f"{source.stem}.manifest.yaml"
        done = run_cli("manifest", "import", str(source), "--output", str(out))
        assert done.returncode == 0, done.stderr
        assert {a["source"] for a in yaml.safe_load(out.read_text())["artifacts"]} == expected
        assert run_cli("manifest", "validate", str(out)).returncode == 0
    assert "nvidia/all lists no tags" in run_cli("manifest", "import", str(sync)).stderr


def test_release_picks_a_bundled_manifest_and_cannot_be_given_with_manifest(tmp_path: Path) -> None:
    for release in manifest_mod.releases():
        doc = _plan_json("--release", release, "--all-groups")
        assert len(doc["artifacts"]) == len(manifest_mod.load(release=release).artifacts), release
    v1 = {a["source"] for a in _plan_json("--release", "v1.0")["artifacts"]}
    assert "docker.io/alpine/k8s:1.37.0" in v1 and not any("nvcf-ncp-staging" in s for s in v1)
    assert manifest_mod.bundled_path() == manifest_mod.bundled_path("v0.5") and manifest_mod.releases()[0] == "v0.5"
    both = run_cli("plan", "--offline", "--target", ECR, "--release", "v1.0", "--manifest", str(tmp_path / "m.yaml"))
    assert both.returncode == 2
    assert (
        both.stderr.strip()
        == "nvcf-mirror: error: --manifest and --release exclude each other: name a file or a bundled release"
    )
    unknown = run_cli("plan", "--offline", "--target", ECR, "--release", "v9")
    assert unknown.returncode == 2
    assert (
        unknown.stderr.strip()
        == "nvcf-mirror: error: --release v9: no such bundled release (releases: v0.5, v0.6.0, v0.6.1, v1.0)"
    )


def _page_rows(release: str) -> list[dict[str, str]]:
    """The rows of the page's facts (tests/data/nvidia-manifest), each as column -> cell without its backticks."""
    rows, columns = [], None
    for line in (DATA / "nvidia-manifest" / f"{release}.md").read_text().splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        if columns is None:
            columns = [c.lower() for c in cells]
        elif not cells[0].startswith("---") and "artifact" in columns:
            rows.append(dict(zip(columns, cells, strict=True)))
    return rows


def test_offline_plan_of_v10_lists_every_artifact_of_its_stacks_with_the_required_ones_selected_by_default() -> None:
    rows = _page_rows("v1.0")
    every = _plan_json("--release", "v1.0", "--all-groups")["artifacts"]
    default = _plan_json("--release", "v1.0")["artifacts"]
    assert len(every) == len(rows) == 99
    assert len(default) == sum(r.get("required") == "Required" for r in rows) == 66
    groups = {"self-managed", "compute-plane", "observability", "cross-stack", "independent"}
    assert {a["group"] for a in default} == groups
    assert not any(a["group"].endswith("-optional") or a["type"] == "resource" for a in default)
    skipped = {a["key"] for a in default if a["status"] == "skipped"}
    unpinned = {"chart:gpu-operator", "image:gpu-operator-validator", "image:k8s-device-plugin"}
    assert skipped == {f"{key}:<unpinned>" for key in unpinned}
    targets = {a["target"] for a in every}
    wanted = [
        "alpine-k8s:1.37.0",
        "nats-server-config-reloader:0.24.0",
        "nats:2.10.21-alpine",
        "kai-scheduler:v0.17.1",
        "helm-nvcf-api:1.27.1",
        "nvcf-self-managed-stack:1.0.1",
    ]
    assert {f"{ECR}/{name}" for name in wanted} <= targets
    assert len(targets) == len(every), "no two artifacts of the release land on one target"


def test_manifest_show_lists_the_bundled_releases_and_one_release_with_its_groups() -> None:
    listing = run_cli("manifest", "show")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert [line.split(":")[0].split(" ")[0] for line in lines[:4]] == manifest_mod.releases()
    assert lines[0].startswith("v0.5 (the default)") and "99 artifacts, 66 selected by default" in lines[3]
    one = run_cli("manifest", "show", "--release", "v1.0", "--group", "cross-stack")
    assert one.returncode == 0 and one.stdout.startswith("cross-stack (default, 1 artifact)"), one.stdout
    assert "nats-server-config-reloader:0.24.0  <- docker.io/natsio/nats-server-config-reloader:0.24.0" in one.stdout


def test_a_pin_of_a_name_with_several_entries_is_refused_naming_each_and_name_tag_pins_one() -> None:
    for version in ("latest", "9.9.9"):
        done = run_cli("plan", "--offline", "--target", ECR, "--set-version", f"nvcf-openbao={version}")
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "nvcf-openbao names 2 entries: nvcf-openbao:2.2.2-nv-1 (" in done.stderr
        assert "nvcf-openbao:2.5.1-nv-1.1.0 (" in done.stderr
        assert f"e.g. --set-version nvcf-openbao:2.2.2-nv-1={version}" in done.stderr
    doc = _plan_json("--set-version", "nvcf-openbao:2.2.2-nv-1=2.2.3-nv-1")
    targets = {a["target"] for a in doc["artifacts"] if a["key"].startswith("image:nvcf-openbao:")}
    assert targets == {f"{ECR}/nvcf-openbao:2.2.3-nv-1", f"{ECR}/nvcf-openbao:2.5.1-nv-1.1.0"}, "one pinned, one kept"
    wrong = run_cli("plan", "--offline", "--target", ECR, "--set-version", "nvcf-openbao:1.0=2.0")
    assert wrong.returncode == 2
    assert (
        "no entry of nvcf-openbao has version 1.0 (entries: nvcf-openbao:2.2.2-nv-1, nvcf-openbao:2.5.1-nv-1.1.0)"
        in wrong.stderr
    )


def test_two_artifacts_that_would_land_on_one_target_are_refused_up_front_naming_both() -> None:
    done = run_cli("plan", "--offline", "--target", ECR, "--set-version", "nvcf-openbao:2.2.2-nv-1=2.5.1-nv-1.1.0")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    line = done.stderr.strip()
    assert "two artifacts land on one target nvcf-openbao:2.5.1-nv-1.1.0: " in line
    assert line.count("nvcr.io/0833294136851237/nvcf-ncp-staging/nvcf-openbao:2.5.1-nv-1.1.0 (") == 2
    assert "nvcf-v0.5.yaml:62: artifacts[7]" in line and "nvcf-v0.5.yaml:65: artifacts[8]" in line
    mirror = run_cli("mirror", "--dry-run", "--target", ECR, "--set-version", "nvcf-openbao:2.2.2-nv-1=2.5.1-nv-1.1.0")
    assert mirror.returncode == 2 and "two artifacts land on one target" in mirror.stderr, (
        "refused before anything is read"
    )


def test_values_of_a_release_from_v06_on_write_the_keys_its_helmfile_takes() -> None:
    done = run_cli("values", "--release", "v1.0", "--target", ECR)
    assert done.returncode == 0, done.stderr
    values = yaml.safe_load(done.stdout)
    registry, prefix = ECR.split("/", 1)
    here = {"registry": registry, "repository": prefix}
    assert values["global"] == {"image": here, "helm": {"sources": here}}
    reloader = {"registry": registry, "repository": f"{prefix}/nats-server-config-reloader", "tag": "0.24.0"}
    assert values["nats"]["reloader"]["image"] == reloader
    assert values["api"]["accountBootstrap"]["image"] == {
        "registry": registry,
        "repository": f"{prefix}/alpine-k8s",
        "tag": "1.37.0",
    }
    assert "cassandra" not in values, "Cassandra lands at <repository>/cassandra, its default"
    assert yaml.safe_load(run_cli("values", "--target", ECR).stdout)["global"]["helm"]["sources"] == [
        {"name": "nvcf-mirror", "type": "oci", "url": f"oci://{ECR}"}
    ], "v0.5's values are as before"


def test_manifest_show_lists_groups_defaults_and_artifacts() -> None:
    done = run_cli("manifest", "show", "--group", "simulation-caching")
    assert done.returncode == 0
    assert done.stdout.startswith("simulation-caching (opt-in, 8 artifacts)")
    assert "gxcache:0.8.2" in done.stdout and "ddcs:5.0.0" in done.stdout


def test_every_schema_field_has_a_description() -> None:
    from provider_helper.manifest import schema

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                assert "description" in sub, f"{path}.{name} has no description"
                walk(sub, f"{path}.{name}")
            if isinstance(node.get("items"), dict):
                walk(node["items"], f"{path}[]")

    walk(schema(), "$")


def test_values_point_the_stack_at_the_mirror() -> None:
    done = run_cli("values", "--target", ECR)
    assert done.returncode == 0, done.stderr
    values = yaml.safe_load(done.stdout)["global"]
    assert values["image"] == {"registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com", "repository": "mycluster"}
    assert values["helm"]["sources"][0]["url"] == f"oci://{ECR}"


def test_a_manifest_that_passed_the_schema_is_not_checked_again_and_a_changed_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provider_helper import manifest as manifest_mod

    monkeypatch.setenv("NVCF_MIRROR_CACHE_DIR", str(tmp_path / "cache"))
    good = json.dumps(
        {
            "apiVersion": "nvcf-mirror/v1",
            "groups": [{"name": "g", "default": True}],
            "artifacts": [{"type": "image", "group": "g", "source": "nvcr.io/nvidia/app:1.0"}],
        }
    )
    manifest_mod.parse(good, "m.yaml")
    assert len(list((tmp_path / "cache" / "schema-checked").iterdir())) == 1
    with monkeypatch.context() as no_jsonschema:
        no_jsonschema.setitem(sys.modules, "jsonschema", None)  # importing it now fails
        assert manifest_mod.parse(good, "m.yaml").artifacts[0].name == "app"
        bad = good.replace('"group": "g", ', '"group": "g", "colour": "red", ')
        with pytest.raises(ImportError):
            manifest_mod.parse(bad, "m.yaml")
    with pytest.raises(InputError, match="unknown field"):
        manifest_mod.parse(bad, "m.yaml")
    assert len(list((tmp_path / "cache" / "schema-checked").iterdir())) == 1, "a failing text is never remembered"


def test_import_keeps_digest_pinned_images_of_a_skopeo_sync_file(tmp_path: Path) -> None:
    digest = "sha256:" + "b" * 64
    sync = tmp_path / "sync.yaml"
    sync.write_text(yaml.safe_dump({"nvcr.io": {"images": {"nvidia/a": [digest, "1.0"]}}}))
    out = tmp_path / "m.yaml"
    done = run_cli("manifest", "import", str(sync), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert [a["source"] for a in yaml.safe_load(out.read_text())["artifacts"]] == [
        f"nvcr.io/nvidia/a@{digest}",
        "nvcr.io/nvidia/a:1.0",
    ]
    assert run_cli("manifest", "validate", str(out)).returncode == 0


NO_NETWORK = """
import os, socket

def _refuse(*args, **kwargs):
    with open(os.environ["NVCF_TEST_NETWORK_LOG"], "a") as log:
        log.write(repr(args[:2]) + "\\n")
    raise OSError("the network was used")

socket.getaddrinfo = _refuse
socket.create_connection = _refuse
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""


@pytest.mark.parametrize("target", [ECR, "harbor.example.com/nvcf"], ids=["ecr", "generic"])
def test_an_offline_plan_makes_no_network_request_at_all(tmp_path: Path, target: str) -> None:
    """Every group (images, OCI and classic charts, NGC resources), with the process's sockets replaced by a
    recorder: not one name is looked up and not one connection is opened."""
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    log = tmp_path / "network.log"
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "NVCF_TEST_NETWORK_LOG": str(log),
        "NGC_API_KEY": "nvapi-offline-test-key",
    }
    done = run_cli(
        "plan",
        "--offline",
        "--all-groups",
        "--output",
        "json",
        "--target",
        target,
        "--set-version",
        "k8s-device-plugin=v0.17.0",
        env=env,
        process=True,
    )  # sitecustomize.py records the sockets of a new interpreter
    assert done.returncode == 0, done.stderr
    assert not log.exists(), f"network used: {log.read_text()}"
    assert len(json.loads(done.stdout)["artifacts"]) == 69
    run_cli(
        "plan",
        "--group",
        "infrastructure",
        "--output",
        "json",
        "--target",
        target,
        "--retries",
        "1",
        env=env,
        process=True,
    )
    assert log.exists(), "the recorder sees a plan that does go to the network"


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"nvcf-mirror, version {version('nvcf-mirror')}"


def test_plan_prints_one_aligned_line_per_artifact_by_default_and_json_on_request() -> None:
    text = run_cli("plan", "--offline", "--target", ECR, "--group", "infrastructure")
    assert text.returncode == 0, text.stderr
    header, *lines = text.stdout.splitlines()
    assert header.startswith(f"{len(lines)} artifacts into {ECR}"), header
    openbao = next(line for line in lines if " nvcf-openbao:2.5.1-nv-1.1.0 " in line)
    assert re.match(
        r"image +infrastructure +nvcf-openbao:2\.5\.1-nv-1\.1\.0 +linux/amd64 +- +"
        r"from nvcr\.io/0833294136851237/nvcf-ncp-staging/$",
        openbao,
    ), "a source ending in the same name:tag is shown up to its last /"
    assert len({line.index(" from ") for line in lines}) == 1, "the columns line up"
    assert max(map(len, lines)) <= 160, "fits 160 columns"
    moved = run_cli(
        "plan", "--offline", "--target", ECR, "--group", "infrastructure", "--source-registry", "mirror.internal:5000"
    )
    assert "from mirror.internal:5000/" in moved.stdout and "from nvcr.io/" not in moved.stdout, (
        "the source actually read"
    )
    assert (
        json.loads(
            run_cli("plan", "--offline", "--target", ECR, "--group", "infrastructure", "--output", "json").stdout
        )["version"]
        == 1
    )


def test_a_set_version_for_an_artifact_of_a_group_not_selected_names_that_group(tmp_path: Path) -> None:
    """README: "A --set-version for an artifact of a group that is not selected names that group."""
    from helpers import write_manifest

    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/o/t/a:1", "group": "main"},
            {"type": "image", "source": "nvcr.io/o/t/b:1", "group": "extra"},
        ],
        [{"name": "main", "default": True}, {"name": "extra", "default": False}],
    )
    done = run_cli("plan", "--offline", "--manifest", str(manifest), "--target", ECR, "--set-version", "b=2")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "nvcf-mirror: error: --set-version b=2: b is in group extra, which is not selected"
    ]
    chosen = run_cli(
        "plan", "--offline", "--manifest", str(manifest), "--target", ECR, "--group", "extra", "--set-version", "b=2"
    )
    assert chosen.returncode == 0, chosen.stderr


def test_an_unknown_release_or_an_unreadable_manifest_is_one_line_naming_it(tmp_path: Path) -> None:
    releases = ", ".join(manifest_mod.releases())
    done = run_cli("plan", "--offline", "--release", "v9.9", "--target", ECR)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nvcf-mirror: error: --release v9.9: no such bundled release (releases: {releases})"
    ]
    missing = tmp_path / "absent.yaml"
    done = run_cli("plan", "--offline", "--manifest", str(missing), "--target", ECR)
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        [f"nvcf-mirror: error: {missing}: cannot read manifest: No such file or directory"],
    )
    assert manifest_mod.DEFAULT_RELEASE == manifest_mod.releases()[0] == "v0.5"
    assert manifest_mod.bundled_path().name == "nvcf-v0.5.yaml" == manifest_mod.bundled_path("v0.5").name


def test_problems_are_reported_in_the_order_of_their_lines_whatever_kind_each_is(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: a\nartifacts:\n"
        "  - type: image\n    source: nvcr.io/x/y:1\n    group: nope\n"  # a rule (line 7)
        "  - type: imag\n    source: nvcr.io/x/z:1\n    group: a\n"  # the schema (line 8)
        "  - type: image\n    source: nvcr.io/x/w:1\n    group: a\n    platforms: [linux/amd65]\n"  # a rule (line 14)
    )
    with pytest.raises(InputError) as caught:
        manifest_mod.load(bad)
    assert [p.split(": ")[0] for p in caught.value.problems] == [f"{bad}:7", f"{bad}:8", f"{bad}:14"]  # type: ignore[attr-defined]
    assert str(caught.value).endswith(" (and 2 more problems)")


GOOD_GROUPS = [{"name": "g", "default": True}]
GOOD_IMAGE = {"type": "image", "source": "nvcr.io/a/b:1", "group": "g"}


@pytest.mark.parametrize(
    ("doc", "line"),
    [
        ({"apiVersion": "nvcf-mirror/v2"}, "f.yaml:1: apiVersion: 'nvcf-mirror/v1' was expected"),
        (
            {"groups": [{"name": "Infra"}], "artifacts": [{**GOOD_IMAGE, "group": "Infra"}]},
            "f.yaml:3: groups[0].name: 'Infra' does not match '^[a-z0-9]+(-[a-z0-9]+)*$'",
        ),
        ({"extra": 1}, "f.yaml:1: unknown field: 'extra' was unexpected"),
        ({"groups": []}, "f.yaml:2: groups: [] should be non-empty"),
        (
            {"artifacts": [{"type": "chart", "repo": "ftp://x", "chart": "c", "version": "1", "group": "g"}]},
            "f.yaml:7: artifacts[0].repo: 'ftp://x' does not match '^https?://'",
        ),
        (
            {"artifacts": [{**GOOD_IMAGE, "needs_version": "yes"}]},
            "f.yaml:9: artifacts[0].needs_version: 'yes' is not of type 'boolean'",
        ),
        ({"artifacts": [{**GOOD_IMAGE, "platforms": []}]}, "f.yaml:9: artifacts[0].platforms: [] should be non-empty"),
        (
            {"artifacts": [{"type": "chart", "repo": "https://x", "chart": "c", "group": "g"}]},
            "f.yaml:6: artifacts[0]: 'version' is a required property",
        ),
    ],
    ids=["api-version", "group-slug", "unknown-field", "no-groups", "repo-url", "needs-version-bool", "no-platforms",
         "classic-chart-version"],
)  # fmt: skip
def test_the_schema_refuses_each_shape_it_does_not_describe_in_one_whole_line(doc: dict[str, Any], line: str) -> None:
    """README The manifest: "a YAML file checked against the JSON Schema in provider_helper/manifests/schema.json";
    each problem one line naming the file, the line, the path and what is wrong."""
    full = {"apiVersion": "nvcf-mirror/v1", "groups": GOOD_GROUPS, "artifacts": [GOOD_IMAGE], **doc}
    with pytest.raises(InputError) as caught:
        manifest_mod.parse(yaml.safe_dump(full, sort_keys=False), "f.yaml")
    assert list(caught.value.problems) == [line]  # type: ignore[attr-defined]


def test_a_group_without_default_is_opt_in_and_the_default_groups_are_those_marked_true() -> None:
    """README The manifest: "default: true  # selected when no --group is given" (the schema's default: false)."""
    text = yaml.safe_dump(
        {
            "apiVersion": "nvcf-mirror/v1",
            "groups": [{"name": "plain"}, {"name": "picked", "default": True}, {"name": "off", "default": False}],
            "artifacts": [{**GOOD_IMAGE, "group": g, "source": f"nvcr.io/a/{g}:1"} for g in ("plain", "picked", "off")],
        }
    )
    loaded = manifest_mod.parse(text, "f.yaml")
    assert loaded.default_groups == ["picked"]
    assert [a.name for a in loaded.select()] == ["picked"]
    assert manifest_mod.schema()["properties"]["groups"]["items"]["properties"]["default"]["default"] is False
