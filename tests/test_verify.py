"""verify: tag present, digest as expected, platform right — read from the target itself."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest
from test_engine import MemoryStore, _image, _jobs, _referred, _run

from provider_helper.errors import UnreachableError
from provider_helper.mirror.attached import Finder
from provider_helper.mirror.plan import Job
from provider_helper.mirror.sources import Payload
from provider_helper.mirror.verify import missing, verify_one
from provider_helper.oci.manifest import OCI_MANIFEST, Manifest
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


# -- verify_one in process, against the in-memory store of test_engine.py: each branch and its whole line ------------


def _copied() -> tuple[MemoryStore, Job, Payload]:
    [job], payloads = _jobs("mirror", ("app",))
    target = MemoryStore()
    _run(target, [job], payloads)
    return target, job, payloads[job.key]


def test_a_copied_artifact_is_present_at_the_sources_digest() -> None:
    target, job, payload = _copied()
    result = verify_one(job, lambda _: payload, target)
    assert (result.status, result.error, result.digest) == ("present", None, payload.resolved.digest)


def test_a_missing_tag_is_one_line_naming_the_target() -> None:
    [job], payloads = _jobs("mirror", ("app",))
    result = verify_one(job, lambda j: payloads[j.key], MemoryStore())
    assert (result.status, result.error) == ("failed", "target.example/mirror/app:1.0 is missing at the target")
    assert result.error == missing(str(job.target))


def test_another_digest_at_the_target_names_both() -> None:
    target, job, payload = _copied()
    [other_job], others = _jobs("mirror", ("app",))
    other = others[other_job.key]
    result = verify_one(job, lambda _: other, target)
    assert result.status == "failed"
    assert result.error == (
        f"target digest {payload.resolved.digest} differs from the source's {other.resolved.digest}"
    )


def test_a_skipped_job_is_skipped_with_its_reason() -> None:
    [job], payloads = _jobs("mirror", ("app",))
    skipped = dataclasses.replace(job, skip_reason="app has no version: pin it")
    result = verify_one(skipped, lambda j: payloads[j.key], MemoryStore())
    assert (result.status, result.error) == ("skipped", "app has no version: pin it")


def test_an_unreachable_source_leaves_the_digest_uncompared_and_says_so() -> None:
    target, job, _ = _copied()

    def unreachable(_: Job) -> Payload:
        raise UnreachableError("get manifest org/app:1.0: cannot reach nvcr.io: connection refused")

    result = verify_one(job, unreachable, target)
    assert result.status == "present"
    assert result.note == (
        "digest not compared: source unreachable (get manifest org/app:1.0: cannot reach nvcr.io: connection refused)"
    )


def test_signatures_the_target_lacks_or_holds_in_another_version_are_each_named() -> None:
    source = MemoryStore(referrers_api=True)
    job, payload, referrer = _referred(source, "org/app")
    target = MemoryStore()
    _run(target, [job], {job.key: payload})
    subject = payload.resolved.digest
    assert subject is not None
    sig_tag = subject.replace(":", "-") + ".sig"
    signature = Manifest.from_bytes(
        b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","layers":[]}', None
    )
    source.manifests[("org/app", sig_tag)] = signature
    result = verify_one(job, lambda _: payload, target, Finder())
    assert result.status == "failed"
    assert result.error == f"signature {sig_tag} at the target: missing"
    target.manifests[("mirror/org/app", sig_tag)] = _image(b"a", b"b")[0]
    del target.manifests[("mirror/org/app", referrer.digest)]
    at_target = target.manifests[("mirror/org/app", sig_tag)].digest
    result = verify_one(job, lambda _: payload, target, Finder())
    assert result.error == (
        f"signature {sig_tag} at the target: {at_target}, not the source's {signature.digest}; "
        f"referrer {referrer.digest} of {subject} is missing at the target"
    )


def test_verify_names_an_artifact_whose_target_digest_differs_from_the_sources_as_one_mismatch_line(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README Use: "`nvcf-mirror verify` | the target has every artifact with the right digest and platform ...: one
    `missing` or `mismatch` line per artifact that does not". The source tag moved after the mirror: the target's
    tag is there, of the right platform, but of another digest; one whole line says so, exit 1, and the artifact
    that did not move passes."""
    before = source.image(f"{ns}/nvidia/moves", "1")
    source.image(f"{ns}/nvidia/stays", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1", "group": "test"} for n in ("moves", "stays")],
    )
    assert run_cli(*_args(sandbox, "mirror", manifest, ns), env=sandbox.env()).returncode == 0
    after = source.image(f"{ns}/nvidia/moves", "1", layer_sizes=(1234,))
    assert after.digest != before.digest
    done = run_cli(*_args(sandbox, "verify", manifest, ns), env=sandbox.env())
    assert done.returncode == 1, done.stderr
    said = [line.split(" nvcf-mirror: ", 1)[1] for line in done.stderr.splitlines() if " nvcf-mirror: " in line]
    target = f"{sandbox.target.host}/{ns}/moves:1"
    assert f"mismatch {target}: target digest {before.digest} differs from the source's {after.digest}" in said, said
    assert not [line for line in said if "stays" in line and line.startswith(("mismatch", "missing"))], said


def test_verify_from_refuses_set_version_and_exclude_beside_the_bundles_lock(tmp_path: Path) -> None:
    """README Use: "Flags that exclude each other (..., `verify --from` with a selection flag: the bundle's lock is the
    selection) stop the command with one line naming both, exit 2". The pins and exclusions a bundle's lock already
    fixed, each as its whole line, before the bundle is even read (it does not exist here)."""
    for flags in (("--set-version", "nvcf-cli=1"), ("--exclude", "nvcf-cli")):
        done = run_cli("verify", "--from", str(tmp_path / "bundle.tar"), "--target", "registry.example/p", *flags)
        assert done.returncode == 2 and done.stdout == "", (flags, done.stderr)
        reason = "--from checks what the bundle's lock lists"
        assert done.stderr == f"nvcf-mirror: error: --from and {flags[0]} exclude each other: {reason}\n"
