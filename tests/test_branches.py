"""Branches a behaviour has beyond its first one, each through the CLI against real parts: a referrer
the target refuses with 405 over HTTP (ECR's answer, injected by a fault proxy in front of the real
target registry), --create-repos --dry-run into a registry that already has some of the repositories,
-q with a warning to suppress, and error kinds through both front doors (the CLI and the Terraform
adapter)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from faultproxy import Fault, FaultProxy
from helpers import run_cli, write_manifest

from provider_helper.sandbox.aws import ECR_PASSWORD, ECR_USER, REGION
from provider_helper.sandbox.images import OCI_INDEX, OCI_MANIFEST, Factory
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture
def target_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.target.url)
    yield proxy
    proxy.close()


def _auth_for(sandbox: Sandbox, host: str, folder: Path) -> Path:
    config = json.loads((sandbox.docker_config / "config.json").read_text())
    config["auths"][host] = config["auths"][sandbox.target.host]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _target_get(sandbox: Sandbox, repo: str, reference: str, accept: str) -> httpx.Response:
    return httpx.get(
        f"{sandbox.target.url}/v2/{repo}/manifests/{reference}",
        auth=(ECR_USER, ECR_PASSWORD),
        headers={"Accept": accept},
    )


def test_a_referrer_refused_with_405_over_http_is_kept_under_its_ref_tag_and_listed_in_the_fallback_index(
    sandbox: Sandbox, source: Factory, target_proxy: FaultProxy, ns: str, tmp_path: Path
) -> None:
    image = source.image(f"{ns}/nvidia/app", "1")
    referrer = source.referrer(f"{ns}/nvidia/app", image)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}]
    )
    refused = target_proxy.add(
        Fault(
            "PUT",
            r"/manifests/sha256:",
            "status",
            times=-1,
            status=405,
            body=b'{"errors":[{"code":"UNSUPPORTED","message":"Invalid parameter at \'imageTag\'"}]}',
        )
    )
    env = {**sandbox.env(), "DOCKER_CONFIG": str(_auth_for(sandbox, target_proxy.host, tmp_path))}
    result = tmp_path / "r.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{target_proxy.host}/{ns}",
        "--result-file",
        str(result),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert refused.hits >= 1, "the referrer was offered by digest first"
    [artifact] = json.loads(result.read_text())["artifacts"]
    assert artifact["status"] == "copied" and artifact["signatures_copied"] >= 1
    subject_tag = image.digest.replace(":", "-")
    kept = _target_get(sandbox, f"{ns}/app", f"{subject_tag}.{referrer.digest[7:23]}.ref", OCI_MANIFEST)
    assert kept.status_code == 200 and kept.headers["docker-content-digest"] == referrer.digest
    fallback = _target_get(sandbox, f"{ns}/app", subject_tag, OCI_INDEX)
    assert fallback.status_code == 200
    assert referrer.digest in [m["digest"] for m in fallback.json()["manifests"]]


def test_create_repos_dry_run_into_a_registry_holding_some_names_only_the_missing_and_leaves_the_rest(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    for name in ("old", "new"):
        source.image(f"{ns}/nvidia/{name}", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/{name}:1", "group": "test"} for name in ("old", "new")],
    )
    ecr = boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ecr.create_repository(
        repositoryName=f"{ns}/old", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": False}
    )
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--create-repos",
    ]

    def names() -> set[str]:
        return {
            r["repositoryName"]
            for r in ecr.describe_repositories()["repositories"]
            if r["repositoryName"].startswith(ns + "/")
        }

    dry = run_cli(*args, "--dry-run", env=sandbox.ecr_env())
    assert dry.returncode == 0, dry.stderr
    would = [line.split("nvcf-mirror: ", 1)[1] for line in dry.stderr.splitlines() if "would create" in line]
    assert would == [f"would create ECR repository {ns}/new"], dry.stderr
    assert names() == {f"{ns}/old"}

    done = run_cli(*args, env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    assert names() == {f"{ns}/old", f"{ns}/new"}
    old = ecr.describe_repositories(repositoryNames=[f"{ns}/old"])["repositories"][0]
    assert old["imageTagMutability"] == "IMMUTABLE" and old["imageScanningConfiguration"] == {"scanOnPush": False}, (
        "left as it was"
    )


def test_quiet_suppresses_a_warning_and_keeps_the_summary(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """An unpinned artifact is a warning-level "skipped" line: -q leaves it out, keeps the summary; without -q it
    shows."""
    source.image(f"{ns}/nvidia/app", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/unpinned", "group": "test", "needs_version": True},
        ],
    )
    args = [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
    ]
    loud = run_cli(*args, env=sandbox.env())
    assert loud.returncode == 0, loud.stderr
    assert any("skipped" in line and "unpinned" in line for line in loud.stderr.splitlines()), loud.stderr
    quiet = run_cli("-q", *args, env=sandbox.env())
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.strip().splitlines()
    assert len(lines) == 1, f"-q keeps the summary line only: {quiet.stderr}"
    assert "nvcf-mirror: 0 copied, 1 present, 0 failed, 1 skipped; 0 B in " in lines[0], quiet.stderr


def _adapter(query: dict[str, str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if k not in ("NGC_API_KEY", "DOCKER_CONFIG")} | env
    return subprocess.run(
        [sys.executable, "-m", "provider_helper.terraform"],
        input=json.dumps(query),
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def test_each_error_kind_is_one_line_with_its_exit_code_through_the_cli_and_the_terraform_adapter(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """Bad input (a manifest problem, a credential missing, a key the token service refuses) is exit 2 and one
    line; what a registry answers (a source that is not there) is exit 1: on the CLI a line for that artifact,
    for Terraform that line and the one the plan stops with. No traceback through either front door."""
    source.image(f"{ns}/nvidia/app", "1")
    good = write_manifest(
        tmp_path / "good.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}]
    )
    gone = write_manifest(
        tmp_path / "gone.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/nothing:1", "group": "test"}]
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: nvcf-mirror/v1\ngroups: [{name: test, default: true}]\nartifacts: 3\n")
    target = sandbox.target.host
    cases = [  # manifest, environment, CLI exit code, adapter exit code, text in the line
        (bad, sandbox.env(), 2, 2, str(bad)),
        (
            good,
            {"DOCKER_CONFIG": str(sandbox.docker_config)},
            2,
            2,
            "NGC_API_KEY",
        ),  # anonymous token granted, but useless
        (
            good,
            {"NGC_API_KEY": "nvapi-wrong", "DOCKER_CONFIG": str(sandbox.docker_config)},
            2,
            2,
            sandbox.source.host,
        ),  # key refused
        (gone, sandbox.env(), 1, 1, f"{ns}/nvidia/nothing"),
    ]
    for manifest, env, cli_code, adapter_code, text in cases:
        cli = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{target}/{ns}",
            env=env,
        )
        cli_errors = [line for line in cli.stderr.strip().splitlines() if "error" in line or "failed " in line]
        assert cli.returncode == cli_code, (manifest, cli.stderr)
        assert len(cli_errors) == 1 and text in cli_errors[0] and "Traceback" not in cli.stderr, cli.stderr
        query = {
            "mode": "plan",
            "target_registry": target,
            "repository_prefix": ns,
            "target_type": "generic",
            "manifest_path": str(manifest),
            "source_registry": sandbox.source.host,
        }
        adapter = _adapter(query, env)
        assert adapter.returncode == adapter_code and adapter.stdout == "", (manifest, adapter.stderr)
        lines = adapter.stderr.strip().splitlines()
        assert all(line.startswith("nvcf-mirror: ") for line in lines) and "Traceback" not in adapter.stderr, (
            adapter.stderr
        )
        if adapter_code == 2:
            assert len(lines) == 1 and text in lines[0], adapter.stderr
        else:  # a line per artifact that failed, then the one the plan stops with, naming the first
            assert (
                lines[-1].startswith("nvcf-mirror: 1 source could not be resolved; first: image:nothing:1: ")
                and text in lines[-1]
            )
            assert len(lines) == 2 and text in lines[0], adapter.stderr
