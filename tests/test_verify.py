"""verify: tag present, digest as expected, platform right — read from the target itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _args(sandbox: Sandbox, command: str, manifest: Path, ns: str, *extra: str) -> list[str]:
    return [
        command,
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        *extra,
    ]


def test_verify_passes_after_mirror_and_catches_wrong_architecture_and_missing_tags(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.index(f"{ns}/nvidia/multi", "1")
    source.image(f"{ns}/nvidia/single", "1")
    artifacts = [
        {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1", "group": "test"} for n in ("multi", "single")
    ]
    manifest = write_manifest(tmp_path / "m.yaml", artifacts)
    assert run_cli(*_args(sandbox, "mirror", manifest, ns), env=sandbox.env()).returncode == 0

    ok = run_cli(*_args(sandbox, "verify", manifest, ns), env=sandbox.env())
    assert ok.returncode == 0, ok.stderr

    wrong = run_cli(
        *_args(sandbox, "verify", manifest, ns, "--platform", "linux/arm64", "--result-file", str(tmp_path / "v.json")),
        env=sandbox.env(),
    )
    assert wrong.returncode == 1
    multi = json.loads((tmp_path / "v.json").read_text())["artifacts"][0]
    assert multi["status"] == "failed"
    assert "linux/amd64 image where linux/arm64 is expected" in multi["error"] and "exec format error" in multi["error"]

    missing = write_manifest(
        tmp_path / "more.yaml",
        [*artifacts, {"type": "image", "source": f"nvcr.io/{ns}/nvidia/never:1", "group": "test"}],
    )
    absent = run_cli(*_args(sandbox, "verify", missing, ns), env=sandbox.env())
    assert absent.returncode == 1
    said = [line.split(" nvcf-mirror: ", 1)[1] for line in absent.stderr.splitlines() if "never" in line]
    assert said == [f"missing  {sandbox.target.host}/{ns}/never:1"], "missing, not 'mismatch X: X is missing'"


def test_verify_names_a_platform_the_target_index_lacks(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README: verify: "the target has every artifact with the right digest and platform ...: one missing or
    mismatch line per artifact that does not". Here a site mirrored two platforms of three and then asks for the
    third: the line says which platform the target's index lacks and what it has."""
    source.index(f"{ns}/nvidia/multi", "1", platforms=("linux/amd64", "linux/arm64", "linux/s390x"))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/multi:1", "group": "test"}]
    )
    two = ("--platform", "linux/amd64", "--platform", "linux/arm64")
    assert run_cli(*_args(sandbox, "mirror", manifest, ns, *two), env=sandbox.env()).returncode == 0
    result = tmp_path / "v.json"
    third = run_cli(
        *_args(sandbox, "verify", manifest, ns, "--platform", "linux/s390x", "--result-file", str(result)),
        env=sandbox.env(),
    )
    assert third.returncode == 1, third.stderr
    [multi] = json.loads(result.read_text())["artifacts"]
    assert multi["status"] == "failed" and multi["platforms"] == ["linux/amd64", "linux/arm64"]
    assert "no linux/s390x image in the target index (it has: linux/amd64, linux/arm64)" in multi["error"], multi
    said = [line.split(" nvcf-mirror: ", 1)[1] for line in third.stderr.splitlines()]
    assert said == [f"mismatch {sandbox.target.host}/{ns}/multi:1: {multi['error']}", "0 verified, 1 failed"], said


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--manifest", "m.yaml"), "--manifest"),
        (("--group", "core"), "--group"),
        (("--all-groups",), "--all-groups"),
        (("--platform", "linux/arm64"), "--platform"),
        (("--all-platforms",), "--all-platforms"),
        (("--set-version", "a=1"), "--set-version"),
    ],
)
def test_verify_from_with_a_selection_flag_is_one_line_naming_both_exit_2(
    tmp_path: Path, flags: tuple[str, ...], named: str
) -> None:
    """README: "verify --from with a selection flag: the bundle's lock is the selection" stops the command "with one
    line naming both, exit 2", before anything is read."""
    done = run_cli("verify", "--from", str(tmp_path / "bundle"), "--target", "registry.example/p", *flags)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nvcf-mirror: error: --from and {named} exclude each other: --from checks what the bundle's lock lists"
    ]
