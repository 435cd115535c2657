"""What a selection picks, for every command that takes one (plan, mirror, save, verify), and every
branch of it: a single-platform image, a multi-arch index and an OCI chart, with the default platform,
another platform, a subset of platforms and --all-platforms; groups named alone; flags that exclude
each other.

The registries are the session's real Distribution pair; the artifacts are pushed once for the module."""

from __future__ import annotations

import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, write_manifest

from provider_helper.errors import InputError, SettingError
from provider_helper.manifest import load as load_manifest
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/c1"
GROUPS = [{"name": "main", "default": True}, {"name": "extra", "default": False}]


@pytest.fixture(scope="module")
def pushed(sandbox: Sandbox, source: Factory, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ns = "sel" + uuid.uuid4().hex[:8]
    index, children = source.index(f"{ns}/nvidia/multi", "1")
    single = source.image(f"{ns}/nvidia/single", "1")
    chart = source.chart(f"{ns}/nvidia/chart", "1.0.0")
    folder = tmp_path_factory.mktemp("selection")
    manifest = write_manifest(
        folder / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/multi:1", "group": "main"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/single:1", "group": "main"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/chart:1.0.0", "group": "main"},
        ],
        GROUPS,
    )
    return {
        "ns": ns,
        "manifest": manifest,
        "folder": folder,
        "index": index.digest,
        "amd64": children["linux/amd64"].digest,
        "arm64": children["linux/arm64"].digest,
        "single": single.digest,
        "chart": chart.digest,
    }


def _common(sandbox: Sandbox, pushed: dict[str, Any], *extra: str) -> list[str]:
    return ["--manifest", str(pushed["manifest"]), "--source-registry", sandbox.source.host, *extra]


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["key"].split(":")[1]: a for a in doc["artifacts"]}


# (flags, the multi-arch image's digest at the target, the single amd64 image's status)
CASES = {
    "default": ((), "amd64", "ok"),
    "another": (("--platform", "linux/arm64"), "arm64", "wrong-architecture"),
    # naming every image platform the index has keeps the index itself (README Signatures)
    "every-named": (("--platform", "linux/amd64", "--platform", "linux/arm64"), "index", "ok"),
    "all": (("--all-platforms",), "index", "ok"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_plan_mirror_save_and_verify_select_the_same_content_for_every_platform_choice(
    sandbox: Sandbox, pushed: dict[str, Any], case: str, tmp_path: Path
) -> None:
    """An index, a single amd64 image and an OCI chart under each platform choice: plan names the digest
    mirror tags, save locks and verify checks; the chart is taken whole whatever platforms images get."""
    flags, multi, single = CASES[case]
    prefix = f"{pushed['ns']}/{case}"
    target = f"{sandbox.target.host}/{prefix}"
    common = _common(sandbox, pushed, *flags)

    plan = run_cli("plan", *common, "--target", target, "--output", "json", env=sandbox.env())
    planned = _by_name(json.loads(plan.stdout))
    result = tmp_path / "r.json"
    mirror = run_cli("mirror", *common, "--target", target, "--result-file", str(result), env=sandbox.env())
    mirrored = _by_name(json.loads(result.read_text()))
    save = run_cli("save", *common, "--to", str(tmp_path / "layout"), env=sandbox.env())
    lock = {a["name"]: a for a in json.loads((tmp_path / "layout" / "nvcf-mirror.lock.json").read_text())["artifacts"]}
    verify = run_cli(
        "verify", *common, "--target", target, "--result-file", str(tmp_path / "v.json"), env=sandbox.env()
    )
    verified = _by_name(json.loads((tmp_path / "v.json").read_text()))

    # a wrong-architecture single image fails wherever it is planned, copied or checked (plan says so, exit 1)
    expected_codes = (1, 1, 1, 1) if single == "wrong-architecture" else (0, 0, 0, 0)
    assert (plan.returncode, mirror.returncode, save.returncode, verify.returncode) == expected_codes, (
        plan.stderr,
        mirror.stderr,
        save.stderr,
        verify.stderr,
    )
    # the OCI chart: byte-identical under every platform choice
    for seen in (planned, mirrored, verified):
        assert seen["chart"]["digest"] == pushed["chart"] and seen["chart"]["status"] != "failed", seen["chart"]
    assert lock["chart"]["digest"] == pushed["chart"]
    # the multi-arch image
    digest = pushed[multi]
    assert (
        planned["multi"]["digest"]
        == mirrored["multi"]["digest"]
        == lock["multi"]["digest"]
        == verified["multi"]["digest"]
        == digest
    )
    assert verified["multi"]["status"] == "present"
    # the single amd64 image
    if single == "ok":
        assert (
            mirrored["single"]["digest"] == lock["single"]["digest"] == verified["single"]["digest"] == pushed["single"]
        )
        assert mirrored["single"]["status"] == "copied"
    else:
        assert planned["single"]["digest"] == pushed["single"], planned["single"]
        assert mirrored["single"]["status"] == "failed"
        assert (
            mirrored["single"]["error"]
            == "linux/amd64 image where linux/arm64 is expected: pods would fail with exec format error"
        )
        assert planned["single"]["status"] == "failed" and planned["single"]["error"] == mirrored["single"]["error"]
        assert verified["single"]["status"] == "failed", "refused, so not at the target"
        assert lock.get("single") is None or lock["single"]["digest"] != pushed["single"]


def test_a_group_named_alone_takes_that_group_and_none_of_the_defaults() -> None:
    """Over the whole selection of the bundled list: every planned artifact is of the named group, and all of its
    artifacts are there."""
    bundled = load_manifest(None)
    for group in ("observability", "deployment-resources", "infrastructure"):
        done = run_cli("plan", "--offline", "--target", ECR, "--group", group, "--output", "json")
        assert done.returncode == 0, done.stderr
        planned = json.loads(done.stdout)["artifacts"]
        assert {a["group"] for a in planned} == {group}
        assert len(planned) == sum(1 for a in bundled.artifacts if a.group == group)
    both = run_cli(
        "plan", "--offline", "--target", ECR, "--group", "observability", "--group", "supporting", "--output", "json"
    )
    assert {a["group"] for a in json.loads(both.stdout)["artifacts"]} == {"observability", "supporting"}


def test_a_group_that_is_not_default_is_left_out_unless_named(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/o/t/a:1", "group": "main"},
            {"type": "image", "source": "nvcr.io/o/t/b:1", "group": "extra"},
        ],
        GROUPS,
    )
    keys = {}
    for name, flags in {"default": (), "extra": ("--group", "extra"), "all": ("--all-groups",)}.items():
        done = run_cli("plan", "--offline", "--manifest", str(manifest), "--target", ECR, "--output", "json", *flags)
        keys[name] = sorted(a["key"] for a in json.loads(done.stdout)["artifacts"])
    assert keys == {"default": ["image:a:1"], "extra": ["image:b:1"], "all": ["image:a:1", "image:b:1"]}


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (("--platform", "linux/arm64", "--all-platforms"), "--platform and --all-platforms exclude each other"),
        (("--group", "infrastructure", "--all-groups"), "--group and --all-groups exclude each other"),
        (
            ("--encryption", "AES256", "--kms-key", "arn:aws:kms:us-east-1:123456789012:key/k"),
            "--kms-key goes with --encryption KMS",
        ),
        (("--encryption", "KMS"), "--encryption KMS needs --kms-key ARN"),
    ],
)
def test_flags_that_exclude_each_other_are_one_line_and_exit_2_for_every_command(
    flags: tuple[str, ...], line: str
) -> None:
    repository_flags = flags[0] == "--encryption"
    commands = (
        [["mirror", "--dry-run", "--target", ECR]]
        if repository_flags
        else [
            ["plan", "--offline", "--target", ECR],
            ["mirror", "--dry-run", "--target", ECR],
            ["save", "--to", "/nonexistent/x"],
            ["verify", "--target", ECR],
            ["values", "--target", ECR],
        ]
    )
    for command in commands:
        done = run_cli(*command, *flags)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.strip() == f"nvcf-mirror: error: {line}", (command, done.stderr)
        assert done.stdout == ""


def test_the_terraform_adapter_names_its_variables_for_a_platform_it_cannot_read() -> None:
    """The other front door: the same refusal, worded as the module's variable, exit 2 and one line, before any
    request."""
    import subprocess
    import sys

    query = json.dumps(
        {"mode": "plan", "target_registry": "registry.example", "target_type": "generic", "platforms": "linux/amd65"}
    )
    done = subprocess.run(
        [sys.executable, "-m", "provider_helper.terraform"], input=query, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr.strip()
        == "nvcf-mirror: platforms[\"linux/amd65\"]: unknown architecture 'amd65' (did you mean linux/amd64?)"
    )


def test_the_single_manifest_digest_mirrored_is_the_one_skopeo_reads(sandbox: Sandbox, pushed: dict[str, Any]) -> None:
    from helpers import skopeo_raw

    target = f"{sandbox.target.host}/{pushed['ns']}/default"
    run_cli("mirror", *_common(sandbox, pushed), "--target", target, env=sandbox.env(), check=True)
    raw = skopeo_raw(f"{target}/multi:1", authfile=sandbox.docker_config / "config.json")
    assert sha256(raw) == pushed["amd64"], "with no --platform the tag is the linux/amd64 manifest"


@pytest.mark.parametrize(
    ("target", "flags", "env", "line"),
    [
        (
            "registry.example/p",
            ("--target-username", "u"),
            {},
            "--target-username needs the password on standard input (--password-stdin) "
            "or in NVCF_MIRROR_TARGET_PASSWORD",
        ),
        (
            ECR,
            ("--target-username", "u"),
            {},
            "--target-username is for generic targets; ECR credentials come from AWS (boto3's default chain)",
        ),
        (
            "registry.example/p",
            (),
            {"NVCF_MIRROR_TARGET_PASSWORD": "s3cret"},
            "a target password was given (stdin or NVCF_MIRROR_TARGET_PASSWORD) without --target-username",
        ),
    ],
)
def test_target_credential_flags_that_need_or_exclude_each_other_are_one_line_and_exit_2(
    target: str, flags: tuple[str, ...], env: dict[str, str], line: str
) -> None:
    for command in (["mirror", "--dry-run"], ["verify"]):
        done = run_cli(*command, "--target", target, *flags, env=env)
        assert done.returncode == 2 and done.stdout == "", (command, done.stderr)
        assert done.stderr.strip() == f"nvcf-mirror: error: {line}", (command, done.stderr)
        assert "s3cret" not in done.stderr


@pytest.mark.parametrize(
    "flags",
    [
        ("--group", "infrastructure"),
        ("--all-groups",),
        ("--platform", "linux/arm64"),
        ("--all-platforms",),
        ("--set-version", "nvcf-cli=1"),
        ("--manifest", "m.yaml"),
        ("--release", "v1.0"),
        ("--exclude", "nvcf-cli"),
        ("--source-registry", "mirror.example"),
        ("--source-map", "nvcr.io=mirror.example"),
    ],
)
def test_verify_from_a_bundle_refuses_a_selection_flag_it_would_ignore(flags: tuple[str, ...], tmp_path: Path) -> None:
    """The bundle's lock is what verify --from checks: a selection flag beside it is one line, exit 2, before any
    request."""
    done = run_cli("verify", "--from", str(tmp_path / "bundle.tar"), "--target", "registry.example/p", *flags)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert (
        done.stderr.strip()
        == f"nvcf-mirror: error: --from and {flags[0]} exclude each other: --from checks what the bundle's lock lists"
    )


def _two_sources_one_name(tmp_path: Path) -> Path:
    """Two entries of different sources that a manifest ``name`` puts under one name, at different tags."""
    return write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/a/one:1.0", "name": "same", "group": "main"},
            {"type": "image", "source": "nvcr.io/b/two:2.0", "name": "same", "group": "main"},
            {"type": "image", "source": "nvcr.io/c/three:2.0", "group": "main"},
        ],
        GROUPS,
    )


def test_exclude_leaves_the_named_artifact_out_and_an_unknown_or_pinned_exclude_is_refused(tmp_path: Path) -> None:
    """README: "--exclude NAME (repeatable) leaves the artifact of that name out of the selection ...; a name the
    manifest does not list is exit 2 with one line naming the manifest, as for --set-version, and a --set-version
    for an excluded artifact says that it is excluded." """
    path = _two_sources_one_name(tmp_path)
    manifest = load_manifest(path)
    assert [a.name for a in manifest.select(excludes=["three"])] == ["same", "same"]
    assert [a.name for a in manifest.select(excludes=["same"])] == ["three"]
    with pytest.raises(SettingError) as unknown:
        manifest.select(excludes=["nope"])
    assert str(unknown.value) == f"excludes nope: no artifact of {path} has that name"
    with pytest.raises(SettingError) as pinned:
        manifest.select(excludes=["three"], versions={"three": "3.0"})
    assert str(pinned.value) == "set_versions three=3.0: three is left out by --exclude"


def test_two_entries_of_different_sources_pinned_onto_one_target_are_refused_naming_both(tmp_path: Path) -> None:
    """README: "A selection in which two artifacts would land on one target ({prefix}/{name}:{tag}, after the pins
    ...) is refused ..., with one line naming both entries, exit 2": here the two sources differ, only the manifest
    ``name`` and the pin bring them together."""
    path = _two_sources_one_name(tmp_path)
    with pytest.raises(InputError) as both:
        load_manifest(path).select(versions={"same:1.0": "2.0"})
    assert str(both.value) == (
        f"two artifacts land on one target same:2.0: nvcr.io/a/one:2.0 ({path}:1: artifacts[0]) and "  # one-line JSON
        f"nvcr.io/b/two:2.0 ({path}:1: artifacts[1]); give one another 'name' or another version"
    )
    done = run_cli("plan", "--offline", "--target", ECR, "--manifest", str(path), "--set-version", "same:1.0=2.0")
    assert done.returncode == 2 and done.stderr == f"nvcf-mirror: error: {both.value}\n"


def test_a_name_listed_twice_is_refused_with_the_whole_documented_line() -> None:
    """README: "A name the selection lists more than once (v0.5 has nvcf-openbao at 2.2.2-nv-1 and 2.5.1-nv-1.1.0)
    is refused with one line naming every entry, exit 2: pin one entry with NAME:TAG=VERSION
    (--set-version nvcf-openbao:2.2.2-nv-1=latest)"."""
    v05 = Path(str(resources.files("provider_helper.manifests").joinpath("nvcf-v0.5.yaml")))
    lines = v05.read_text().splitlines()
    # each entry's "- type" line, the one before its source
    at = [n for n, line in enumerate(lines) if "/nvcf-openbao:" in line and "source:" in line]
    assert len(at) == 2, "v0.5 lists nvcf-openbao twice"
    done = run_cli("plan", "--offline", "--target", ECR, "--set-version", "nvcf-openbao=latest")
    assert done.returncode == 2
    assert done.stderr == (
        "nvcf-mirror: error: --set-version nvcf-openbao=latest: nvcf-openbao names 2 entries: "
        f"nvcf-openbao:2.2.2-nv-1 ({v05}:{at[0]}: artifacts[7]), "
        f"nvcf-openbao:2.5.1-nv-1.1.0 ({v05}:{at[1]}: artifacts[8]); "
        "pin one of them, e.g. --set-version nvcf-openbao:2.2.2-nv-1=latest\n"
    )


@pytest.mark.parametrize(
    ("pins", "line"),
    [
        (
            ["foo=1.1", "foo=1.2"],
            "nvcf-mirror: error: --set-version foo=1.2: foo is pinned twice (foo=1.1 and foo=1.2)",
        ),
        (
            ["foo=1.1", "foo:1.0=1.2"],
            "nvcf-mirror: error: --set-version foo:1.0=1.2: foo is pinned twice (foo=1.1 and foo:1.0=1.2)",
        ),
    ],
    ids=["same-name", "name-and-name-tag"],
)
def test_one_entry_pinned_twice_is_one_line_naming_both_pins_and_exit_2(
    pins: list[str], line: str, tmp_path: Path
) -> None:
    """README COMMON: "One entry pinned twice ... is one line naming both pins, exit 2"; two pins of one name's
    different entries (NAME:TAG each) are not a clash."""
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/o/foo:1.0", "group": "test"},
            {"type": "image", "source": "nvcr.io/o/foo:2.0", "group": "test"},
        ],
    )
    flags = [arg for pin in pins for arg in ("--set-version", pin)]
    done = run_cli("plan", "--offline", "--manifest", str(manifest), "--target", "r.example/p", *flags)
    assert (done.returncode, done.stderr.strip()) == (2, line)
    apart = ["--set-version", "foo:1.0=1.1", "--set-version", "foo:2.0=2.1"]
    fine = run_cli("plan", "--offline", "--manifest", str(manifest), "--target", "r.example/p", *apart)
    assert fine.returncode == 0 and "foo:1.1" in fine.stdout and "foo:2.1" in fine.stdout, fine.stderr


def test_an_unknown_group_is_one_line_naming_the_manifest_and_the_groups_it_has(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/nvidia/nvcf/a:1", "group": "main"}], GROUPS
    )
    with pytest.raises(SettingError) as caught:
        load_manifest(manifest).select(["nope"])
    assert str(caught.value) == f"groups nope: no such group in {manifest} (groups: extra, main)"
    done = run_cli("plan", "--offline", "--manifest", str(manifest), "--group", "nope", "--target", "r.example/p")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nvcf-mirror: error: --group nope: no such group in {manifest} (groups: extra, main)"
    ]


def test_without_group_the_default_groups_are_selected_and_all_groups_adds_the_rest(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/a:1", "group": "main"},
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/b:1", "group": "extra"},
        ],
        GROUPS,
    )
    loaded = load_manifest(manifest)
    assert [a.name for a in loaded.select()] == ["a"]
    assert [a.name for a in loaded.select(all_groups=True)] == ["a", "b"]
    assert [a.name for a in loaded.select(["extra"])] == ["b"]
    assert [a.name for a in loaded.select(["extra", "main"], excludes=["a"])] == ["b"]


def test_an_unknown_group_is_one_line_naming_it_and_the_known_groups_through_both_front_doors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Module README: "A bad entry of `set_versions`, `groups`, `exclude` or `platforms` fails the plan with one line
    naming it as the variable"; on the CLI the same line names `--group`. Exit 2, before any request, never an
    empty selection."""
    import io

    from provider_helper import terraform
    from provider_helper.manifest import bundled_path

    known = ", ".join(sorted(g.name for g in load_manifest().groups))
    problem = f"no such group in {bundled_path()} (groups: {known})"
    cli = run_cli("plan", "--offline", "--target", "registry.example/c1", "--group", "no-such-group")
    assert cli.returncode == 2 and cli.stdout == ""
    assert cli.stderr == f"nvcf-mirror: error: --group no-such-group: {problem}\n"
    query = {"mode": "plan", "target_registry": "registry.example", "target_type": "generic", "groups": "no-such-group"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(query)))
    assert terraform.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f'nvcf-mirror: groups["no-such-group"]: {problem}\n'
