"""Lines the docs quote, asserted whole, the place they name included (file, line and path of a
manifest problem; the repository and registry of a missing project), not only their first words."""

from __future__ import annotations

from pathlib import Path

import httpx
from helpers import run_cli

from provider_helper.http import error_from

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/c1"


def test_a_duplicate_target_names_both_entries_whole_file_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: g\n    default: true\nartifacts:\n"
        "  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"
        "  - {type: image, source: 'nvcr.io/a/c:1', group: g}\n"
        "  - {type: image, source: 'nvcr.io/other/b:1', group: g}\n"  # lands on b:1 as well
    )
    for args in (["manifest", "validate", str(path)], ["plan", "--offline", "--manifest", str(path), "--target", ECR]):
        done = run_cli(*args)
        assert done.returncode == 2
        assert (
            done.stderr.strip()
            == f"nvcf-mirror: error: {path}:8: artifacts[2]: duplicate target b:1, also at {path}:6: artifacts[0]"
        )


def test_a_duplicate_group_names_both_entries_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: nvcf-mirror/v1\ngroups:\n  - name: g\n    default: true\n  - name: g\n"
        "artifacts:\n  - {type: image, source: 'nvcr.io/a/b:1', group: g}\n"
    )
    done = run_cli("manifest", "validate", str(path))
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"nvcf-mirror: error: {path}:5: groups[1].name: duplicate group 'g', also at {path}:3: groups[0].name"
    )


def test_a_missing_repository_or_project_is_the_readmes_line_naming_both_and_the_fix() -> None:
    """README: "repository/project X does not exist at REGISTRY"; the registry's NAME_UNKNOWN to a push."""
    request = httpx.Request("PUT", "https://harbor.example/v2/nvcf/nvcf-openbao/manifests/2.5.1")
    response = httpx.Response(
        404, json={"errors": [{"code": "NAME_UNKNOWN", "message": "project nvcf not found"}]}, request=request
    )
    error = error_from(response, "put manifest", "harbor.example")
    assert str(error) == (
        "repository/project nvcf/nvcf-openbao does not exist at harbor.example: "
        "create it or use --create-repos where supported"
    )
