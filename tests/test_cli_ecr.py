"""Unit tests of provider_helper/cli/ecr.py: `ecr delete-repos` and `ecr import-commands` against moto server as
the ECR API (the real part DESIGN.md names). README Targets: delete-repos "lists the repositories under
mycluster/, asks (or --yes), supports --dry-run, and never touches a repository outside the prefix";
import-commands prints "terraform import lines for the module's existing repositories (ADDR default
module.nvcf_mirror)". Every line is asserted whole."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import readme_text
from helpers import run_cli, write_manifest

from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture
def ecr(sandbox: Sandbox) -> Any:
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _names(ecr: Any) -> set[str]:
    return {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}


def test_delete_repos_lists_asks_and_deletes_only_under_the_prefix_each_line_whole(
    sandbox: Sandbox, ecr: Any, ns: str
) -> None:
    inside, outside = [f"{ns}/b/c", f"{ns}/a"], [f"{ns}x/d", ns]
    for name in inside + outside:
        ecr.create_repository(repositoryName=name)
    base = ["ecr", "delete-repos", "--prefix", f"{ns}/", "--region", REGION]
    dry = run_cli(*base, "--dry-run", env=sandbox.ecr_env())
    assert (dry.returncode, dry.stderr) == (0, "")
    assert dry.stdout.splitlines() == [f"{ns}/a", f"{ns}/b/c", "2 repositories would be deleted (dry run)"]
    unasked = run_cli(*base, env=sandbox.ecr_env())
    assert unasked.returncode == 2
    assert unasked.stderr.splitlines() == [
        "nvcf-mirror: error: refusing to delete without confirmation: pass --yes when not on a terminal"
    ]
    assert set(inside + outside) <= _names(ecr), "neither the dry run nor the unconfirmed run deletes"
    done = run_cli(*base, "--yes", env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{ns}/a", f"{ns}/b/c", f"deleted 2 repositories under {ns}/"]
    assert not set(inside) & _names(ecr)
    assert set(outside) <= _names(ecr)
    again = run_cli(*base, "--yes", env=sandbox.ecr_env())
    assert (again.returncode, again.stdout) == (0, f"no repositories under {ns}/ in {REGION}\n")


def test_delete_repos_counts_one_repository_in_the_singular(sandbox: Sandbox, ecr: Any, ns: str) -> None:
    ecr.create_repository(repositoryName=f"{ns}/only")
    done = run_cli("ecr", "delete-repos", "--prefix", ns, "--region", REGION, "--yes", env=sandbox.ecr_env())
    assert done.stdout.splitlines() == [f"{ns}/only", f"deleted 1 repository under {ns}/"]


@pytest.mark.parametrize("prefix", ["", "/", "  "])
def test_an_empty_prefix_is_refused_before_any_repository_is_listed(prefix: str) -> None:
    done = run_cli("ecr", "delete-repos", "--prefix", prefix, "--region", REGION, "--yes")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "nvcf-mirror: error: --prefix must not be empty: that would name every repository"
    ]


def test_import_commands_without_an_address_use_module_nvcf_mirror_and_list_only_existing_repositories(
    sandbox: Sandbox, ecr: Any, ns: str, tmp_path: Path
) -> None:
    default = readme_text.said(
        r"`nvcf-mirror ecr import-commands \[COMMON\] \[--module-address ADDR\]` \| [^|]*"
        r"`ADDR` default `([\w.]+)`"
    )[1]
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "test"},
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-grpc:1.2.0", "group": "test"},
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/unpinned", "group": "test", "needs_version": True},
        ],
    )
    for name in (f"{ns}/nvcf-grpc", f"{ns}/unpinned", f"{ns}/not-in-the-manifest"):
        ecr.create_repository(repositoryName=name)
    done = run_cli(
        "ecr",
        "import-commands",
        "--manifest",
        str(manifest),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--aws-region",
        REGION,
        env=sandbox.ecr_env(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"terraform import '{default}.aws_ecr_repository.this[\"{ns}/nvcf-grpc\"]' {ns}/nvcf-grpc"
    ]
    assert default == "module.nvcf_mirror"


@pytest.mark.parametrize("address", ["nvcf_mirror", "module.a b", "module.x;rm"])
def test_import_commands_refuse_an_address_that_is_not_a_module_address(address: str) -> None:
    done = run_cli("ecr", "import-commands", "--target", "r.example/p", "--module-address", address)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"nvcf-mirror: error: --module-address {address!r}: expected e.g. module.nvcf_mirror"
    ]
    assert not re.search(r"Traceback", done.stderr)


def test_the_region_is_region_else_aws_region_then_aws_default_region(sandbox: Sandbox, ns: str) -> None:
    """delete-repos --help: "AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION; one of the three is
    needed)"; moto answers for any region, so the line naming the region says which one was asked."""
    base = ["ecr", "delete-repos", "--prefix", ns, "--dry-run"]
    for extra, env, region in (
        ((), {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-west-1"),
        ((), {"AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"),
        (("--region", "sa-east-1"), {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"}, "sa-east-1"),
    ):
        done = run_cli(*base, *extra, env={**sandbox.ecr_env(), **env})
        assert (done.returncode, done.stdout) == (0, f"no repositories under {ns}/ in {region}\n"), done.stderr
