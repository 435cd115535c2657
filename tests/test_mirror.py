"""The copy engine end to end: CLI → real Distribution registries, read back with skopeo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest
from realclients import Containerd, ContainersTool, image_digest

from provider_helper.sandbox.aws import ECR_USER
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.registry import LocalRegistry
from provider_helper.sandbox.stack import Sandbox


def _mirror(
    sandbox: Sandbox, manifest: Path, prefix: str, *extra: str, result: Path | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{prefix}",
        *extra,
    ]
    if result:
        args += ["--result-file", str(result)]
    return run_cli(*args, env=sandbox.env(), process=process)


def _src(sandbox: Sandbox, repo: str, tag: str) -> dict[str, Any]:
    return {"type": "image", "source": f"nvcr.io/{repo}:{tag}"}


@pytest.fixture
def mixed_set(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> dict[str, Any]:
    """An OCI index with attestations, a Docker manifest list, a single-arch image and a Helm chart."""
    oci_index, oci_children = source.index(f"{ns}/nvidia/app-oci", "1.0")
    docker_list, docker_children = source.index(f"{ns}/nvidia/app-docker", "2.0", fmt="docker")
    single = source.image(f"{ns}/nvidia/app-single", "3.0")
    chart = source.chart(f"{ns}/nvidia/helm-app", "1.4.7")
    artifacts = [
        _src(sandbox, f"{ns}/nvidia/app-oci", "1.0"),
        _src(sandbox, f"{ns}/nvidia/app-docker", "2.0"),
        _src(sandbox, f"{ns}/nvidia/app-single", "3.0"),
        {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/helm-app:1.4.7"},
    ]
    return {
        "manifest": write_manifest(tmp_path / "m.yaml", [{**a, "group": "test"} for a in artifacts]),
        "expected_amd64": {
            "app-oci:1.0": oci_children["linux/amd64"].digest,
            "app-docker:2.0": docker_children["linux/amd64"].digest,
            "app-single:3.0": single.digest,
            "helm-app:1.4.7": chart.digest,
        },
        "indexes": {"app-oci:1.0": oci_index.digest, "app-docker:2.0": docker_list.digest},
    }


def test_single_platform_tags_point_at_the_source_amd64_manifest(
    sandbox: Sandbox, mixed_set: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    # the installed entry point
    done = _mirror(sandbox, mixed_set["manifest"], ns, result=tmp_path / "r.json", process=True)
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"
    for name, expected in mixed_set["expected_amd64"].items():
        raw = skopeo_raw(f"{sandbox.target.host}/{ns}/{name}", authfile=authfile)
        assert sha256(raw) == expected, name
        source_raw = skopeo_raw(
            f"{sandbox.source.host}/{ns}/nvidia/{name.split(':')[0]}@{expected}", creds=f"$oauthtoken:{sandbox.api_key}"
        )
        assert raw == source_raw, f"{name}: target bytes differ from the source manifest"
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {a["digest"] for a in doc["artifacts"]} == set(mixed_set["expected_amd64"].values())
    assert all(a["status"] == "copied" for a in doc["artifacts"])
    assert doc["target"] == f"{sandbox.target.host}/{ns}"


def test_all_platforms_copies_indexes_byte_identical_with_attestations(
    sandbox: Sandbox, mixed_set: dict[str, Any], ns: str
) -> None:
    done = _mirror(sandbox, mixed_set["manifest"], ns, "--all-platforms")
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"
    for name, expected in mixed_set["indexes"].items():
        raw = skopeo_raw(f"{sandbox.target.host}/{ns}/{name}", authfile=authfile)
        assert sha256(raw) == expected
        children = json.loads(raw)["manifests"]
        if name.startswith("app-oci"):
            assert any(c["platform"]["os"] == "unknown" for c in children), (
                "attestation manifests are part of the index"
            )
        for child in children:
            child_raw = skopeo_raw(
                f"{sandbox.target.host}/{ns}/{name.split(':')[0]}@{child['digest']}", authfile=authfile
            )
            assert sha256(child_raw) == child["digest"]


def test_second_run_copies_nothing_and_reports_present(
    sandbox: Sandbox, mixed_set: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    assert _mirror(sandbox, mixed_set["manifest"], ns).returncode == 0
    done = _mirror(sandbox, mixed_set["manifest"], ns, result=tmp_path / "again.json")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "again.json").read_text())
    assert doc["summary"]["bytes_copied"] == 0
    assert doc["summary"]["copied"] == 0
    assert [a["status"] for a in doc["artifacts"]] == ["present"] * 4


def test_subset_of_platforms_builds_a_new_index_and_says_so(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    index, children = source.index(f"{ns}/nvidia/tri", "1", platforms=("linux/amd64", "linux/arm64", "linux/ppc64le"))
    manifest = write_manifest(tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/tri", "1"), "group": "test"}])
    done = _mirror(
        sandbox, manifest, ns, "--platform", "linux/amd64", "--platform", "linux/arm64", result=tmp_path / "r.json"
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["digest"] != index.digest and "new index" in entry["note"]
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/tri:1", authfile=sandbox.docker_config / "config.json")
    listed = {m["digest"] for m in json.loads(raw)["manifests"] if m["platform"]["os"] != "unknown"}
    assert listed == {children["linux/amd64"].digest, children["linux/arm64"].digest}


def test_corrupt_source_blob_fails_only_that_artifact_and_leaves_no_tag(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    bad = source.image(f"{ns}/nvidia/bad", "1", layer_sizes=(300_000,))
    source.image(f"{ns}/nvidia/good", "1")
    layer = json.loads(skopeo_raw(f"{sandbox.source.host}/{ns}/nvidia/bad:1", creds=f"$oauthtoken:{sandbox.api_key}"))[
        "layers"
    ][-1]
    path = sandbox.source.blob_path(layer["digest"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes: only hashing can tell
    path.write_bytes(bytes(data))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("bad", "good")]
    )
    done = _mirror(sandbox, manifest, ns, result=tmp_path / "r.json")
    assert done.returncode == 1
    bad_result, good_result = json.loads((tmp_path / "r.json").read_text())["artifacts"]
    assert (
        bad_result["status"] == "failed"
        and f"source blob {layer['digest']} does not match its digest" in bad_result["error"]
    )
    assert good_result["status"] == "copied"
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/bad:1", authfile=sandbox.docker_config / "config.json")
    assert bad.digest  # the manifest itself was fine; only its layer was not


def test_shared_layers_are_uploaded_once_and_mounted_elsewhere(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    base = source.large_blob(f"{ns}/nvidia/a", 3 << 20)
    # the same base bytes in three source repositories, as NGC images share base layers
    data = sandbox.source.blob_path(base.digest).read_bytes()
    for name in ("b", "c"):
        source.blob(f"{ns}/nvidia/{name}", data, base.media_type)
    for name in ("a", "b", "c"):
        source.image(f"{ns}/nvidia/{name}", "1", extra_layers=(base,), layer_sizes=(1000,))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("a", "b", "c")]
    )
    done = _mirror(sandbox, manifest, ns, result=tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    copied = json.loads((tmp_path / "r.json").read_text())["summary"]["bytes_copied"]
    assert base.size <= copied < 2 * base.size, (
        "the 3 MiB base layer crossed the wire once; the other repositories mounted it"
    )


def test_one_source_token_covers_every_repository_the_run_reads(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    names = ("p", "q", "r")
    for name in names:
        source.image(f"{ns}/nvidia/{name}", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in names]
    )
    sandbox.tokens.requests.clear()
    done = _mirror(sandbox, manifest, ns)
    assert done.returncode == 0, done.stderr
    pulls = {f"repository:{ns}/nvidia/{n}:pull" for n in names}
    asked = [set(scopes) & pulls for scopes in sandbox.tokens.requests]
    assert [a for a in asked if a] == [pulls], "one token request for the three repositories, none per repository"


def test_wrong_ngc_key_exits_2_naming_the_registry_and_not_the_key(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/x", "1")
    manifest = write_manifest(tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/x", "1"), "group": "test"}])
    wrong = "nvapi-WRONG-" + sandbox.api_key[::-1]
    done = run_cli(
        "-v",
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env={**sandbox.env(), "NGC_API_KEY": wrong},
        process=True,
    )  # the exit code a shell sees from the installed entry point
    assert done.returncode == 2
    assert f"authentication failed for {sandbox.source.host}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert wrong not in done.stdout + done.stderr
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/x:1", authfile=sandbox.docker_config / "config.json")


def test_an_unset_ngc_key_stops_the_run_before_any_artifact_in_one_line_naming_it_and_the_organisation(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    for name in ("a", "b", "c"):
        source.image(f"{ns}/nvidia/{name}", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{name}", "1"), "group": "test"} for name in "abc"]
    )
    requests_before = len(sandbox.tokens.requests)
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: {sandbox.source.host} (nvcr.io) asks for credentials and NGC_API_KEY is not set: "
        f"export NGC_API_KEY with an API key of the NGC organisation {ns} (a Personal API key with access to its "
        "registry)"
    ]
    assert len(sandbox.tokens.requests) - requests_before <= 2, (
        "one anonymous token for the run and one probe, not one per artifact"
    )
    assert _target_repositories(sandbox, ns) == [], "nothing was tried at the target"


def test_an_unreachable_target_is_one_line_and_exit_1_before_any_artifact(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/x", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{name}", "1"), "group": "test"} for name in "xyz"]
    )
    closed = _closed_port()
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"127.0.0.1:{closed}/{ns}",
        "--retries",
        "1",
        env=sandbox.env(),
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"nvcf-mirror: error: ping 127.0.0.1:{closed}: cannot reach 127.0.0.1:{closed}: "
        "connection refused (nothing listens on that port)"
    ]


def test_an_unreachable_source_fails_its_artifacts_at_once_with_one_line_within_seconds(
    sandbox: Sandbox, ns: str, tmp_path: Path
) -> None:
    """nvcr.io (here its --source-registry stand-in) refusing connections: one line for the source, not one
    per artifact after each one's retries; the default retries, as a user runs it."""
    entries = [{**_src(sandbox, f"{ns}/nvidia/x{i}", "1"), "group": "test"} for i in range(6)]
    manifest = write_manifest(tmp_path / "m.yaml", entries)
    closed = _closed_port()
    common = [
        "--manifest",
        str(manifest),
        "--source-registry",
        f"127.0.0.1:{closed}",
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    started = time.monotonic()
    done = run_cli("mirror", *common, "--result-file", str(tmp_path / "r.json"), env=sandbox.env())
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    host = f"127.0.0.1:{closed}"
    reason = f"ping {host}: cannot reach {host}: connection refused (nothing listens on that port)"
    lines = done.stderr.strip().splitlines()
    assert [line.split(" nvcf-mirror: ", 1)[1] for line in lines[:-1]] == [f"{reason}: 6 artifacts are not tried"]
    assert "0 copied, 0 present, 6 failed" in lines[-1]
    results = json.loads((tmp_path / "r.json").read_text())["artifacts"]
    assert [(a["status"], a["error"]) for a in results] == [("failed", reason)] * 6
    assert elapsed < 5, f"a user waited {elapsed:.1f}s for 'cannot reach'"
    plan = run_cli("plan", *common, env=sandbox.env())
    assert plan.returncode == 1
    assert plan.stdout.count("cannot reach") == 6, "each artifact once in the table"
    assert plan.stderr.count("cannot reach") == 1, "the source once"


def test_a_target_refusing_connections_is_named_within_seconds(sandbox: Sandbox, ns: str, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/x", "1"), "group": "test"}])
    closed = _closed_port()
    started = time.monotonic()
    done = run_cli(
        "-v",
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"127.0.0.1:{closed}/{ns}",
        env=sandbox.env(),
    )  # the default --retries
    assert done.returncode == 1 and "connection refused" in done.stderr
    assert time.monotonic() - started < 5
    waits = re.findall(rf"ping 127\.0\.0\.1:{closed}: .*; retry (\d+)/(\d+) in ([0-9.]+)s", done.stderr)
    assert [(n, of) for n, of, _ in waits] == [("1", "2"), ("2", "2")], "three attempts, not --retries' six"
    assert all(float(wait) <= 1.0 for _, _, wait in waits), waits


def test_a_name_that_does_not_resolve_is_named_with_what_failed_not_an_internal_error(tmp_path: Path) -> None:
    """A classic Helm repository on a host that does not resolve (.invalid never does, RFC 2606)."""
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {
                "type": "chart",
                "repo": "https://helm.nvcf-mirror.invalid/nvidia",
                "chart": "x",
                "version": "1.0.0",
                "group": "test",
            }
        ],
    )
    done = run_cli("plan", "--manifest", str(manifest), "--target", "127.0.0.1:9/c1", "--retries", "1")
    assert done.returncode in (1, 2) and "internal error" not in done.stderr, done.stderr
    assert (
        "cannot reach helm.nvcf-mirror.invalid: the name does not resolve (check the host name, DNS and HTTPS_PROXY)"
        in done.stderr
    )


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_wrong_architecture_single_image_is_refused(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> None:
    source.image(f"{ns}/nvidia/armonly", "1", platform="linux/arm64")
    manifest = write_manifest(tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/armonly", "1"), "group": "test"}])
    done = _mirror(sandbox, manifest, ns, result=tmp_path / "r.json")
    assert done.returncode == 1
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert "linux/arm64 image where linux/amd64 is expected" in error and "exec format error" in error


def test_plan_and_dry_run_refuse_a_wrong_architecture_single_image_as_mirror_does(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/armonly", "1", platform="linux/arm64")
    source.image(f"{ns}/nvidia/amd", "1")
    entries = [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("armonly", "amd")]
    manifest = write_manifest(tmp_path / "m.yaml", entries)
    wrong = "linux/arm64 image where linux/amd64 is expected: pods would fail with exec format error"
    plan = run_cli(
        "plan",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--output",
        "json",
        env=sandbox.env(),
    )
    assert plan.returncode == 1, plan.stderr
    planned = {a["key"]: a for a in json.loads(plan.stdout)["artifacts"]}
    assert (planned["image:armonly:1"]["status"], planned["image:armonly:1"]["error"]) == ("failed", wrong)
    assert planned["image:amd:1"]["platforms"] == ["linux/amd64"], "plan names the platform it read, not 'all'"
    dry = _mirror(sandbox, manifest, ns, "--dry-run", result=tmp_path / "r.json")
    assert dry.returncode == 1, dry.stderr
    statuses = {a["key"]: (a["status"], a["error"]) for a in json.loads((tmp_path / "r.json").read_text())["artifacts"]}
    assert statuses == {"image:armonly:1": ("failed", wrong), "image:amd:1": ("planned", None)}
    assert _target_repositories(sandbox, ns) == [], "nothing pushed"


def test_peak_memory_stays_bounded_while_copying_a_256_mib_layer(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    big = source.large_blob(f"{ns}/nvidia/big", 256 << 20)
    source.image(f"{ns}/nvidia/big", "1", extra_layers=(big,), layer_sizes=())
    manifest = write_manifest(tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/big", "1"), "group": "test"}])
    env = {**os.environ, **sandbox.env()}
    peak_file = tmp_path / "peak"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provider_helper.sandbox.measure",
            str(peak_file),
            sys.executable,
            "-m",
            "provider_helper",
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{sandbox.target.host}/{ns}",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    peak_mib = int(peak_file.read_text()) / 1024  # Linux reports KiB
    print(f"peak RSS copying a 256 MiB layer: {peak_mib:.0f} MiB")
    assert peak_mib < 150
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/big:1", authfile=sandbox.docker_config / "config.json")
    assert json.loads(raw)["layers"][-1]["digest"] == big.digest


def test_an_unaccepted_licence_fails_that_artifact_with_the_licence_line(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """nvcr.io's token endpoint answers 412 for an artifact whose terms are not accepted: that artifact says so,
    the rest is copied."""
    source.image(f"{ns}/nvidia/licensed", "1.0")
    source.image(f"{ns}/nvidia/free", "1.0")
    sandbox.tokens.licence_required.add(f"{ns}/nvidia/licensed")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/licensed:1.0", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/free:1.0", "group": "test"},
        ],
    )
    result = tmp_path / "r.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--result-file",
        str(result),
        env=sandbox.env(),
    )
    assert done.returncode == 1, done.stderr
    artifacts = {a["key"]: a for a in json.loads(result.read_text())["artifacts"]}
    assert artifacts["image:licensed:1.0"]["status"] == "failed"
    assert (
        artifacts["image:licensed:1.0"]["error"]
        == f"accept the licence terms for {ns}/nvidia/licensed in the NGC catalog, then run again"
    )
    assert artifacts["image:free:1.0"]["status"] == "copied"


def _target_repositories(sandbox: Sandbox, ns: str) -> list[str]:
    """The target's catalog under ``ns``: what any run pushed there (the catalog is sorted: start just before
    ``ns/``)."""
    import httpx

    response = httpx.get(
        f"{sandbox.target.url}/v2/_catalog", params={"n": "1000", "last": ns}, auth=(ECR_USER, sandbox.target_password)
    )
    response.raise_for_status()
    return [r for r in response.json()["repositories"] if r.startswith(f"{ns}/")]


def test_dry_run_resolves_and_compares_and_pushes_nothing(
    sandbox: Sandbox, mixed_set: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    done = _mirror(sandbox, mixed_set["manifest"], ns, "--dry-run", result=tmp_path / "dry.json")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "dry.json").read_text())
    assert [a["status"] for a in doc["artifacts"]] == ["planned"] * 4
    assert {a["target"].rsplit("/", 1)[1]: a["digest"] for a in doc["artifacts"]} == mixed_set["expected_amd64"]
    assert doc["summary"]["bytes_copied"] == 0 and _target_repositories(sandbox, ns) == []

    assert _mirror(sandbox, mixed_set["manifest"], ns).returncode == 0
    again = _mirror(sandbox, mixed_set["manifest"], ns, "--dry-run", result=tmp_path / "warm.json")
    assert again.returncode == 0, again.stderr
    assert [a["status"] for a in json.loads((tmp_path / "warm.json").read_text())["artifacts"]] == ["present"] * 4


def test_an_artifacts_own_platforms_and_name_decide_its_tag_and_repository(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    _, arm_first = source.index(f"{ns}/nvidia/arm-app", "1.0")
    _, plain = source.index(f"{ns}/nvidia/plain-app", "1.0")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {
                **_src(sandbox, f"{ns}/nvidia/arm-app", "1.0"),
                "group": "test",
                "platforms": ["linux/arm64"],
                "name": "renamed-app",
            },
            {**_src(sandbox, f"{ns}/nvidia/plain-app", "1.0"), "group": "test"},
        ],
    )
    done = _mirror(sandbox, manifest, ns, "--platform", "linux/amd64", result=tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/renamed-app:1.0", authfile=authfile))
        == arm_first["linux/arm64"].digest
    )
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/plain-app:1.0", authfile=authfile))
        == plain["linux/amd64"].digest
    )
    assert sorted(_target_repositories(sandbox, ns)) == [f"{ns}/plain-app", f"{ns}/renamed-app"], (
        "nothing lands under the source's own name"
    )
    entries = json.loads((tmp_path / "r.json").read_text())["artifacts"]
    assert [(e["key"], e["platforms"]) for e in entries] == [
        ("image:renamed-app:1.0", ["linux/arm64"]),
        ("image:plain-app:1.0", ["linux/amd64"]),
    ]


def test_source_registry_replaces_nvcr_io_only(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> None:
    from_ngc = source.image(f"{ns}/nvidia/from-ngc", "1")
    elsewhere = sandbox.target_factory()
    try:
        other = elsewhere.image(f"{ns}-vendor/tools/from-elsewhere", "2")
    finally:
        elsewhere.close()
    own_source = f"{sandbox.target.host}/{ns}-vendor/tools/from-elsewhere:2"
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {**_src(sandbox, f"{ns}/nvidia/from-ngc", "1"), "group": "test"},
            {"type": "image", "source": own_source, "group": "test"},
        ],
    )
    done = _mirror(sandbox, manifest, ns, result=tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/from-ngc:1", authfile=authfile)) == from_ngc.digest
    assert sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/from-elsewhere:2", authfile=authfile)) == other.digest
    assert [e["source"] for e in json.loads((tmp_path / "r.json").read_text())["artifacts"]][1] == own_source


# -- what container runtimes pull from the mirror (podman, containerd's ctr: tests/realclients.py) -----------------

PLATFORM_CHOICES = {  # the flags, the platform the runtimes pull
    "default": ((), "linux/amd64"),
    "arm64": (("--platform", "linux/arm64"), "linux/arm64"),
    "both": (("--platform", "linux/amd64", "--platform", "linux/arm64"), "linux/arm64"),
    "all": (("--all-platforms",), "linux/arm64"),
}


def test_podman_and_ctr_pull_every_image_by_tag_and_by_the_reported_digest_for_each_platform_choice(
    open_registry: LocalRegistry, podman: ContainersTool, containerd: Containerd, ns: str, tmp_path: Path
) -> None:
    """OCI and Docker format, single images and multi-arch indexes (the OCI one with attestations): after each
    platform choice podman pulls every tag and every digest the result document reports, and ctr's image for
    each tag is the reported digest. Naming both platforms of an index keeps its digest (no new index)."""
    factory = Factory(open_registry.url, lambda repo: "")
    indexes = {
        f"{fmt}-list": factory.index(f"{ns}/src/nvidia/{fmt}-list", "1.0", fmt=fmt, runnable=True)[0]
        for fmt in ("oci", "docker")
    }
    for fmt in ("oci", "docker"):
        for arch in ("amd64", "arm64"):
            factory.image(
                f"{ns}/src/nvidia/{fmt}-single-{arch}", "1.0", fmt=fmt, platform=f"linux/{arch}", runnable=True
            )
    factory.close()
    for choice, (flags, platform) in PLATFORM_CHOICES.items():
        single = "arm64" if choice == "arm64" else "amd64"  # a single image must be of the platform asked for
        names = {
            **{f"{fmt}-list": platform for fmt in ("oci", "docker")},
            **{f"{fmt}-single-{single}": f"linux/{single}" for fmt in ("oci", "docker")},
        }
        manifest = write_manifest(
            tmp_path / f"{choice}.yaml",
            [{"type": "image", "source": f"nvcr.io/{ns}/src/nvidia/{n}:1.0", "group": "test"} for n in names],
        )
        prefix = f"{open_registry.host}/{ns}/{choice}"
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            open_registry.host,
            "--target",
            prefix,
            *flags,
            "--result-file",
            str(tmp_path / f"{choice}.json"),
        )
        assert done.returncode == 0, done.stderr
        reported = {a["target"]: a for a in json.loads((tmp_path / f"{choice}.json").read_text())["artifacts"]}
        if choice in ("both", "all"):
            for name, index in indexes.items():
                entry = reported[f"{prefix}/{name}:1.0"]
                assert entry["digest"] == index.digest and not entry.get("note"), f"{choice}: {name} is whole"
        tags = list(reported)
        by_digest = [f"{target.rsplit(':', 1)[0]}@{a['digest']}" for target, a in reported.items()]
        podman.run("pull", "--tls-verify=false", "--arch", platform.split("/")[1], *tags, *by_digest)
        inspected = json.loads(podman.run("image", "inspect", *tags).stdout)
        for target, image in zip(tags, inspected, strict=True):
            pinned = f"{target.rsplit(':', 1)[0]}@{reported[target]['digest']}"
            assert pinned in image["RepoDigests"], f"{choice}: podman {target}"
        for target, pinned in zip(tags, by_digest, strict=True):
            pull_platform = names[target.rsplit("/", 1)[1].split(":")[0]]
            containerd.ctr("images", "pull", "--plain-http", "--platform", pull_platform, target)
            containerd.ctr("images", "pull", "--plain-http", "--platform", pull_platform, pinned)
        listing = containerd.ctr("images", "ls").stdout
        for target in tags:
            assert image_digest(listing, target) == reported[target]["digest"], f"{choice}: ctr {target}"


def test_naming_every_platform_of_an_index_keeps_it_byte_identical_and_notes_nothing(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """An amd64+arm64 index (with its attestation entries, which are not platforms) named by both platforms is
    the source index, so NVIDIA's signature on it still covers the tag; a true subset still gets a new index."""
    index, _ = source.index(f"{ns}/nvidia/duo", "1")
    docker_list, _ = source.index(f"{ns}/nvidia/duo-docker", "1", fmt="docker")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("duo", "duo-docker")],
    )
    done = _mirror(
        sandbox, manifest, ns, "--platform", "linux/arm64", "--platform", "linux/amd64", result=tmp_path / "r.json"
    )
    assert done.returncode == 0, done.stderr
    reported = json.loads((tmp_path / "r.json").read_text())["artifacts"]
    for entry, expected in zip(reported, (index, docker_list), strict=True):
        assert entry["digest"] == expected.digest and "note" not in entry, entry
        assert sorted(entry["platforms"]) == ["linux/amd64", "linux/arm64"]
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/duo:1", authfile=sandbox.docker_config / "config.json")
    assert sha256(raw) == index.digest


def test_plan_shows_the_platform_of_a_single_platform_image(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/arm-only", "1", platform="linux/arm64")
    source.index(f"{ns}/nvidia/multi", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("arm-only", "multi")],
    )
    where = ("--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}", "--all-platforms")
    done = run_cli("plan", "--manifest", str(manifest), *where, "--output", "json", env=sandbox.env())
    assert done.returncode == 0, done.stderr
    single, multi = json.loads(done.stdout)["artifacts"]
    assert single["platforms"] == ["linux/arm64"], "not empty, which the table shows as 'all'"
    assert multi["platforms"] == ["linux/amd64", "linux/arm64"]
    table = run_cli("plan", "--manifest", str(manifest), *where, env=sandbox.env())
    assert re.search(r"arm-only:1 +linux/arm64 ", table.stdout), table.stdout


def test_plan_compare_says_present_or_to_copy_with_the_bytes_and_offline_says_so(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README plan: "--compare also asks the target: present or to copy, and the bytes a mirror would send"; "no
    network with --offline". The header counts the artifacts into the target, and with --compare what is present and
    what a copy would send; each line ends with what the target holds of it."""
    for name in ("there", "new"):
        source.image(f"{ns}/nvidia/{name}", "1", layer_sizes=(4096,))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{**_src(sandbox, f"{ns}/nvidia/{n}", "1"), "group": "test"} for n in ("there", "new")]
    )
    first = write_manifest(tmp_path / "first.yaml", [{**_src(sandbox, f"{ns}/nvidia/there", "1"), "group": "test"}])
    assert _mirror(sandbox, first, ns).returncode == 0
    target = f"{sandbox.target.host}/{ns}"
    args = ["plan", "--manifest", str(manifest), "--source-registry", sandbox.source.host, "--target", target]
    done = run_cli(*args, "--compare", env=sandbox.env())
    assert done.returncode == 0, done.stderr
    header, there, new = done.stdout.splitlines()
    size = re.fullmatch(r".*  to copy, (\d+\.\d KiB)", new)
    assert size is not None, new
    assert header == f"2 artifacts into {target}; 1 present, would copy 1, {size[1]} to send"
    assert there.endswith("  present") and " there:1 " in there
    assert " new:1 " in new
    offline = run_cli(*args, "--offline", env=sandbox.env())
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.splitlines()[0] == f"2 artifacts into {target} (offline: digests not resolved)"
