"""provider_helper/usecases/mirror.py: what mirror, load and Terraform's apply step do: create the target's
repositories when asked (a dry run names the missing ones and creates nothing), then copy. Real parts: moto as
ECR's control plane, the session's Distribution registries as source and as the target's data plane."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from helpers import write_manifest

from provider_helper.aws.ecr import RepositorySettings
from provider_helper.mirror.engine import EngineOptions
from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig
from provider_helper.usecases.mirror import copy_to_target, mirror


def _repos(ecr: Any, ns: str) -> dict[str, Any]:
    return {
        r["repositoryName"]: r
        for r in ecr.describe_repositories()["repositories"]
        if r["repositoryName"].startswith(ns + "/")
    }


@pytest.fixture
def ecr_config(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> RunConfig:
    for name in ("kept", "new-a", "new-b"):
        source.image(f"{ns}/nvidia/{name}", "1")
    for key, value in sandbox.ecr_env().items():
        monkeypatch.setenv(key, value)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1", "group": "test"}
            for n in ("kept", "new-a", "new-b")
        ],
    )
    return RunConfig(
        target=f"{sandbox.target.host}/{ns}",
        target_type="ecr",
        manifest=str(manifest),
        source_registry=sandbox.source.host,
    )


def test_a_dry_run_names_only_the_missing_repositories_and_creates_nothing(
    sandbox: Sandbox, ecr_config: RunConfig, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    """README Targets: "--create-repos creates every missing mycluster/<name> repository first ... Existing
    repositories are left as they are"; with --dry-run it pushes nothing and creates nothing."""
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=sandbox.aws.url)
    ecr.create_repository(repositoryName=f"{ns}/kept", imageTagMutability="IMMUTABLE")
    with caplog.at_level(logging.INFO, logger="nvcf-mirror"):
        jobs, results, _ = mirror(
            ecr_config, EngineOptions(), dry_run=True, create_repos=True, repo_settings=RepositorySettings()
        )
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("would create")]
    assert said == [f"would create ECR repository {ns}/new-a", f"would create ECR repository {ns}/new-b"]
    assert list(_repos(ecr, ns)) == [f"{ns}/kept"]
    assert [r.status for r in results] == ["planned"] * 3 and len(jobs) == 3


def test_a_copy_creates_the_missing_repositories_with_the_settings_and_leaves_existing_ones(
    sandbox: Sandbox, ecr_config: RunConfig, ns: str
) -> None:
    ecr = boto3.client("ecr", region_name=REGION, endpoint_url=sandbox.aws.url)
    ecr.create_repository(repositoryName=f"{ns}/kept", imageTagMutability="IMMUTABLE")
    settings = RepositorySettings(scan_on_push=False, tag_mutability="MUTABLE")
    results, _ = copy_to_target(
        ecr_config, ecr_config.jobs(), EngineOptions(), create_repos=True, repo_settings=settings
    )
    assert [r.status for r in results] == ["copied"] * 3, [r.error for r in results]
    repos = _repos(ecr, ns)
    assert sorted(repos) == [f"{ns}/kept", f"{ns}/new-a", f"{ns}/new-b"]
    assert repos[f"{ns}/kept"]["imageTagMutability"] == "IMMUTABLE", "an existing repository is left as it is"
    assert repos[f"{ns}/new-a"]["imageScanningConfiguration"] == {"scanOnPush": False}
    results, _ = copy_to_target(
        ecr_config, ecr_config.jobs(), EngineOptions(), create_repos=False, repo_settings=settings
    )
    assert [r.status for r in results] == ["present"] * 3
