"""Faults real registries produce, injected by a proxy in front of a real registry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultproxy import Fault, FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

RATE_EXCEEDED = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "Rate exceeded"}]}).encode()


@pytest.fixture
def target_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.target.url)
    yield proxy
    proxy.close()


@pytest.fixture
def one_image(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> tuple[Path, str]:
    _, children = source.index(f"{ns}/nvidia/app", "1", layer_sizes=(200_000,))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}]
    )
    return manifest, children["linux/amd64"].digest


def _mirror(
    sandbox: Sandbox, manifest: Path, target_host: str, ns: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {**sandbox.env(), "DOCKER_CONFIG": str(_auth_for(sandbox, target_host, manifest.parent))}
    return run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{target_host}/{ns}",
        *extra,
        env=env,
    )


def _auth_for(sandbox: Sandbox, host: str, folder: Path) -> Path:
    config = json.loads((sandbox.docker_config / "config.json").read_text())
    config["auths"][host] = config["auths"][sandbox.target.host]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_429_rate_exceeded_on_manifest_put_is_retried_after_retry_after(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str
) -> None:
    manifest, expected = one_image
    target_proxy.add(
        Fault("PUT", "/manifests/", "status", times=2, status=429, headers={"Retry-After": "1"}, body=RATE_EXCEEDED)
    )
    done = _mirror(sandbox, manifest, target_proxy.host, ns)
    assert done.returncode == 0, done.stderr
    assert target_proxy.count("PUT", "/manifests/") == 3
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json"))
        == expected
    )


def test_a_blob_gone_from_the_target_when_its_manifest_is_put_is_checked_and_sent_again(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    """Just before the first manifest PUT the repository's blob links are removed from the real
    registry's storage, so it answers MANIFEST_BLOB_UNKNOWN, as Distribution also does while another
    run is linking the same blob. The engine checks the blobs again, re-sends them, and retries."""
    manifest, expected = one_image
    layers = sandbox.target.storage / "docker/registry/v2/repositories" / ns / "app" / "_layers"
    target_proxy.add(Fault("PUT", "/manifests/", "hook", before=lambda: shutil.rmtree(layers)))
    done = _mirror(sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    assert [status for method, path, status in target_proxy.log if method == "PUT" and "/manifests/" in path] == [
        400,
        201,
    ]
    assert target_proxy.count("PUT", "/blobs/uploads/") == 4, "config and layer are uploaded, then uploaded again"
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json")
    assert sha256(raw) == expected
    image = json.loads(raw)
    blob_bytes = sum(d["size"] for d in [image["config"], *image["layers"]])
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["bytes_copied"] == 2 * blob_bytes + len(raw)


def test_manifest_put_failing_beyond_the_budget_fails_cleanly_and_the_next_run_completes(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    manifest, expected = one_image
    target_proxy.add(Fault("PUT", "/manifests/", "status", times=-1, status=503))
    failed = _mirror(
        sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r.json"), "--retries", "3"
    )
    assert failed.returncode == 1 and target_proxy.count("PUT", "/manifests/") == 3, "the budget is --retries attempts"
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["status"] == "failed" and "503" in entry["error"]
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json")
    target_proxy.clear()
    again = _mirror(sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r2.json"))
    assert again.returncode == 0, again.stderr
    doc = json.loads((tmp_path / "r2.json").read_text())
    assert doc["artifacts"][0]["digest"] == expected
    assert doc["summary"]["bytes_copied"] < 200_000, "the blobs that landed in the failed run were not sent again"


@pytest.fixture
def source_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.source.url)
    yield proxy
    proxy.close()


def _via_source_proxy(
    sandbox: Sandbox, proxy: FaultProxy, manifest: Path, ns: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        proxy.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        *extra,
        env=sandbox.env(),
    )


BLOB_GET = r"/blobs/sha256:"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("GET", BLOB_GET, "reset", times=2),
        Fault("GET", BLOB_GET, "truncate", times=2),
        Fault("GET", BLOB_GET, "status", times=2, status=503),
        Fault("GET", BLOB_GET, "status", times=2, status=429, headers={"Retry-After": "1"}),
        Fault("GET", r"/manifests/", "slow", times=2, delay=2.0),
    ],
    ids=["reset-mid-blob", "truncated-body", "503", "429-retry-after", "slow"],
)
def test_source_faults_within_the_retry_budget_still_give_exact_digests(
    sandbox: Sandbox, source_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, fault: Fault
) -> None:
    manifest, expected = one_image
    source_proxy.add(fault)
    done = _via_source_proxy(sandbox, source_proxy, manifest, ns)
    assert done.returncode == 0, done.stderr
    assert fault.hits == 2, "the fault was injected"
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json"))
        == expected
    )


def test_blob_faults_beyond_the_budget_fail_the_artifact_and_the_next_run_completes(
    sandbox: Sandbox, source_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    manifest, expected = one_image
    source_proxy.add(Fault("GET", BLOB_GET, "reset", times=-1))
    failed = _via_source_proxy(
        sandbox, source_proxy, manifest, ns, "--retries", "2", "--result-file", str(tmp_path / "r.json")
    )
    assert failed.returncode == 1
    assert json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["status"] == "failed"
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json")
    source_proxy.clear()
    assert _via_source_proxy(sandbox, source_proxy, manifest, ns).returncode == 0
    assert (
        sha256(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1", authfile=sandbox.docker_config / "config.json"))
        == expected
    )


@pytest.fixture
def many_images(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    expected = {}
    for i in range(8):
        expected[f"img{i}:1"] = source.image(f"{ns}/nvidia/img{i}", "1", layer_sizes=(150_000, 150_000)).digest
    manifest = write_manifest(
        tmp_path / "many.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/img{i}:1", "group": "test"} for i in range(8)],
    )
    return manifest, expected


def _start(
    sandbox: Sandbox, proxy_host: str, manifest: Path, prefix: str, result: Path, **env_extra: str
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONFIG", "NGC_API_KEY")} | sandbox.env() | env_extra
    env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT dumps every thread's stack: where a stuck run was
    # A shell without job control starts background commands with SIGINT ignored, and Python keeps an
    # inherited SIG_IGN: a suite started that way (nohup … &) would test a run that cannot be interrupted.
    # `env --default-signal=INT` gives the run the SIGINT a terminal's Ctrl-C meets.
    return subprocess.Popen(
        [
            "env",
            "--default-signal=INT",
            sys.executable,
            "-m",
            "provider_helper",
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            proxy_host,
            "--target",
            f"{sandbox.target.host}/{prefix}",
            "--jobs",
            "2",
            "--blob-jobs",
            "2",
            "--result-file",
            str(result),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_digests(sandbox: Sandbox, prefix: str, expected: dict[str, str]) -> None:
    """skopeo sees every ``name:tag`` at the target with the expected digest."""
    for name, digest in expected.items():
        assert (
            sha256(skopeo_raw(f"{sandbox.target.host}/{prefix}/{name}", authfile=sandbox.docker_config / "config.json"))
            == digest
        )


def _wait_for(proxy: FaultProxy, method: str, path: str, count: int, timeout: float = 30) -> None:
    """Until the run under test is mid-way: ``count`` matching requests went through the proxy."""
    deadline = time.monotonic() + timeout
    while proxy.count(method, path) < count:
        assert time.monotonic() < deadline, (
            f"only {proxy.count(method, path)} of {count} {method} {path} requests arrived"
        )
        time.sleep(0.05)


def _tags_are_complete(sandbox: Sandbox, prefix: str, names: list[str]) -> int:
    """Every tag at the target must point at a manifest whose blobs are all there; returns how many tags exist."""
    import httpx

    present = 0
    auth = ("AWS", sandbox.target_password)
    for name in names:
        try:
            raw = skopeo_raw(f"{sandbox.target.host}/{prefix}/{name}", authfile=sandbox.docker_config / "config.json")
        except LookupError:
            continue
        present += 1
        body = json.loads(raw)
        for blob in [body["config"], *body["layers"]]:
            repo = f"{prefix}/{name.split(':')[0]}"
            assert httpx.head(f"{sandbox.target.url}/v2/{repo}/blobs/{blob['digest']}", auth=auth).status_code == 200
    return present


def test_kill_9_mid_run_then_a_rerun_copies_only_what_is_missing(
    sandbox: Sandbox, source_proxy: FaultProxy, many_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = many_images
    source_proxy.add(Fault("GET", BLOB_GET, "slow", times=-1, delay=0.4))
    temp = tmp_path / "tmp"
    temp.mkdir()
    run = _start(sandbox, source_proxy.host, manifest, ns, tmp_path / "killed.json", TMPDIR=str(temp))
    _wait_for(source_proxy, "GET", BLOB_GET, 6)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert list(temp.iterdir()) == [], "a killed run of images leaves no folder in the temporary directory"
    _tags_are_complete(sandbox, ns, list(expected))
    source_proxy.clear()
    rerun = _start(sandbox, source_proxy.host, manifest, ns, tmp_path / "rerun.json")
    assert rerun.wait(120) == 0, rerun.stderr.read() if rerun.stderr else ""
    # nothing remembered, so the fresh copy sends every blob (rather than mounting them from the first prefix)
    fresh = _start(
        sandbox,
        source_proxy.host,
        manifest,
        f"{ns}-fresh",
        tmp_path / "fresh.json",
        NVCF_MIRROR_CACHE_DIR=str(tmp_path / "empty-cache"),
    )
    assert fresh.wait(120) == 0
    rerun_bytes = json.loads((tmp_path / "rerun.json").read_text())["summary"]["bytes_copied"]
    full_bytes = json.loads((tmp_path / "fresh.json").read_text())["summary"]["bytes_copied"]
    assert 0 < rerun_bytes < full_bytes, "what the killed run uploaded was not sent again"
    _assert_digests(sandbox, ns, expected)


def test_check_jobs_jobs_and_blob_jobs_bound_the_requests_in_flight(
    sandbox: Sandbox, source_proxy: FaultProxy, source: Factory, ns: str, tmp_path: Path
) -> None:
    expected, layers = {}, []
    for i in range(8):
        layer = source.large_blob(f"{ns}/nvidia/b{i}", 100_000)
        layers.append(layer.digest)
        expected[f"b{i}:1"] = source.image(f"{ns}/nvidia/b{i}", "1", extra_layers=(layer,), layer_sizes=()).digest
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/b{i}:1", "group": "test"} for i in range(8)],
    )
    layer_get = "/blobs/(" + "|".join(layers) + ")$"
    source_proxy.add(Fault("GET", r"/manifests/1$", "slow", times=-1, delay=0.3))
    source_proxy.add(Fault("GET", layer_get, "slow", times=-1, delay=0.3))
    done = _via_source_proxy(
        sandbox, source_proxy, manifest, ns, "--check-jobs", "3", "--jobs", "3", "--blob-jobs", "2"
    )
    assert done.returncode == 0, done.stderr
    assert source_proxy.peak("GET", r"/manifests/1$") == 3, "eight tags resolved three at a time"
    assert source_proxy.peak("GET", layer_get) == 2, "three images copying, two layer transfers between them"
    _assert_digests(sandbox, ns, expected)


def test_two_concurrent_runs_into_the_same_target_both_succeed(
    sandbox: Sandbox, many_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = many_images
    runs = [_start(sandbox, sandbox.source.host, manifest, ns, tmp_path / f"r{i}.json") for i in range(2)]
    for run in runs:
        assert run.wait(120) == 0, run.stderr.read() if run.stderr else ""
    _assert_digests(sandbox, ns, expected)


def test_ctrl_c_stops_within_seconds_and_leaves_no_partial_tag(
    sandbox: Sandbox, source_proxy: FaultProxy, many_images: tuple[Path, dict[str, str]], ns: str, tmp_path: Path
) -> None:
    manifest, expected = many_images
    source_proxy.add(Fault("GET", BLOB_GET, "slow", times=-1, delay=0.5))
    run = _start(sandbox, source_proxy.host, manifest, ns, tmp_path / "r.json")
    _wait_for(source_proxy, "GET", BLOB_GET, 4)
    run.send_signal(signal.SIGINT)
    try:
        code = run.wait(5)
    except subprocess.TimeoutExpired:  # still running 5 s after Ctrl-C: show where (faulthandler dumps every thread)
        run.send_signal(signal.SIGABRT)
        run.wait(30)
        raise AssertionError(f"not stopped 5 s after Ctrl-C:\n{run.stderr.read() if run.stderr else ''}") from None
    assert code == 130
    stderr = run.stderr.read() if run.stderr else ""
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert _tags_are_complete(sandbox, ns, list(expected)) < len(expected), "the run was stopped mid-way"


def test_missing_repository_or_project_is_named_with_the_fix(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    # Distribution creates repositories on push; ECR and Harbor answer NAME_UNKNOWN, injected here.
    unknown = json.dumps(
        {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known to registry"}]}
    ).encode()
    manifest, _ = one_image
    target_proxy.add(Fault("POST", "/blobs/uploads/", "status", times=-1, status=404, body=unknown))
    done = _mirror(sandbox, manifest, target_proxy.host, ns, "--result-file", str(tmp_path / "r.json"))
    assert done.returncode == 1
    error = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert (
        error == f"repository/project {ns}/app does not exist at {target_proxy.host}: "
        "create it or use --create-repos where supported"
    )


@pytest.mark.parametrize("attempts", [1, 3])
def test_retries_means_attempts_for_a_blob_upload_start_that_always_fails(
    sandbox: Sandbox, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str, attempts: int
) -> None:
    """Retries live in one layer: the engine retries a blob copy as a whole, the upload start inside it
    is not retried again (else --retries 3 sent it 9 times)."""
    manifest, _ = one_image
    target_proxy.add(Fault("POST", "/blobs/uploads/", "status", times=-1, status=503))
    done = _mirror(sandbox, manifest, target_proxy.host, ns, "--retries", str(attempts), "--blob-jobs", "1")
    assert done.returncode == 1
    blobs = 2  # the linux/amd64 image: a config and one layer
    assert target_proxy.count("POST", "/blobs/uploads/") == attempts * blobs


def test_retries_means_attempts_for_a_manifest_get_that_always_answers_503(
    sandbox: Sandbox, source_proxy: FaultProxy, one_image: tuple[Path, str], ns: str
) -> None:
    manifest, _ = one_image
    source_proxy.add(Fault("GET", "/manifests/", "status", times=-1, status=503))
    done = _via_source_proxy(sandbox, source_proxy, manifest, ns, "--retries", "3")
    assert done.returncode == 1
    assert source_proxy.count("GET", "/manifests/") == 3


def test_every_request_carries_the_versioned_user_agent(
    sandbox: Sandbox, source_proxy: FaultProxy, target_proxy: FaultProxy, one_image: tuple[Path, str], ns: str
) -> None:
    from importlib.metadata import version

    manifest, _ = one_image
    env = {**sandbox.env(), "DOCKER_CONFIG": str(_auth_for(sandbox, target_proxy.host, manifest.parent))}
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        source_proxy.host,
        "--target",
        f"{target_proxy.host}/{ns}",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert source_proxy.user_agents == target_proxy.user_agents == {f"nvcf-mirror/{version('nvcf-mirror')}"}


@pytest.mark.parametrize("honours_range", [True, False], ids=["range", "source-ignores-range"])
def test_a_save_cut_off_inside_a_large_layer_reads_only_the_rest_of_it_when_run_again(
    sandbox: Sandbox, source: Factory, source_proxy: FaultProxy, ns: str, tmp_path: Path, honours_range: bool
) -> None:
    """The proxy cuts the layer's answer at half (a dropped link): the partial file stays, and the next
    save asks for the rest with Range and checks the whole against the digest. A source that answers
    the range with the whole blob (200) has it started again."""
    repo = f"{ns}/nvidia/big"
    layer = source.large_blob(repo, 8 << 20)
    image = source.image(repo, "1.0", layer_sizes=(), extra_layers=(layer,))
    entry = {"type": "image", "source": f"nvcr.io/{repo}:1.0", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    layout = tmp_path / "layout"
    args = [
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        source_proxy.host,
        "--to",
        str(layout),
        "--no-signatures",
    ]
    source_proxy.add(Fault("GET", f"/blobs/{layer.digest}", "truncate"))
    cut = run_cli(*args, env=sandbox.env())
    assert cut.returncode == 1, cut.stderr
    partial = layout / f".partial-{layer.digest.split(':')[1]}"
    held = partial.stat().st_size
    assert 0 < held < layer.size, "the bytes that arrived stay"
    assert not (layout / "blobs" / "sha256" / layer.digest.split(":")[1]).exists(), "no blob file before it is whole"

    source_proxy.clear()
    if not honours_range:
        source_proxy.add(Fault("GET", f"/blobs/{layer.digest}", "ignore-range"))
    again = run_cli("--log-format", "json", *args, env=sandbox.env())
    assert again.returncode == 0, again.stderr
    read = source_proxy.bytes_served("GET", f"/blobs/{layer.digest}")
    assert read == (layer.size - held if honours_range else layer.size), (read, layer.size, held)
    blob = layout / "blobs" / "sha256" / layer.digest.split(":")[1]
    assert sha256(blob.read_bytes()) == layer.digest and not partial.exists()
    summary = next(json.loads(line) for line in again.stderr.splitlines() if '"summary"' in line)
    assert summary["bytes_copied"] <= read + 4096, "the result counts what was read, not the whole layer"
    lock = json.loads((layout / "nvcf-mirror.lock.json").read_text())
    assert [a["digest"] for a in lock["artifacts"]] == [image.digest]
