"""Unit tests of provider_helper/usecases/plan.py: the plan use case, offline (no network at all), the way both
front doors call it. README: "status is ... planned or skipped (with the reason in error)"; an entry published
without a tag is "skipped with a warning until pinned"; plan --offline and --compare exclude each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli, write_manifest

from provider_helper.errors import InputError
from provider_helper.session import RunConfig
from provider_helper.usecases.plan import plan

GROUPS = [{"name": "main", "default": True}]


def _manifest(tmp_path: Path) -> Path:
    return write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "main"},
            {
                "type": "image",
                "source": "nvcr.io/nvidia/cloud-native/k8s-device-plugin",
                "group": "main",
                "needs_version": True,
            },
            {
                "type": "image",
                "source": "nvcr.io/nvidia/nvcf/arm-only:1",
                "group": "main",
                "platforms": ["linux/arm64"],
            },
            {
                "type": "chart",
                "repo": "https://helm.ngc.nvidia.com/nvidia",
                "chart": "gpu-operator",
                "group": "main",
                "needs_version": True,
            },
        ],
        GROUPS,
    )


def test_an_offline_plan_lists_each_artifact_planned_and_an_unpinned_one_skipped_with_the_way_to_pin_it(
    tmp_path: Path,
) -> None:
    config = RunConfig(target="r.example/p", manifest=str(_manifest(tmp_path)))
    jobs, results = plan(config, offline=True, compare=False, check_jobs=4)
    assert len(jobs) == len(results) == 4
    assert [(r.key, r.status, r.error, r.platforms) for r in results] == [
        ("image:nvcf-api:1.27.1", "planned", None, ["linux/amd64"]),
        (
            "image:k8s-device-plugin:<unpinned>",
            "skipped",
            "k8s-device-plugin has no version: pin it in the manifest or with --set-version k8s-device-plugin=VERSION",
            [],
        ),
        ("image:arm-only:1", "planned", None, ["linux/arm64"]),
        (
            "chart:gpu-operator:<unpinned>",
            "skipped",
            "gpu-operator has no version: pin it in the manifest or with --set-version gpu-operator=VERSION",
            [],
        ),
    ]
    assert results[0].target == "r.example/p/nvcf-api:1.27.1"


def test_a_pinned_entry_is_planned_not_skipped(tmp_path: Path) -> None:
    config = RunConfig(
        target="r.example/p", manifest=str(_manifest(tmp_path)), set_versions=("k8s-device-plugin=v0.17.0",)
    )
    _, results = plan(config, offline=True, compare=False, check_jobs=4)
    assert ("image:k8s-device-plugin:v0.17.0", "planned") in [(r.key, r.status) for r in results]


def test_offline_and_compare_exclude_each_other_in_one_line_before_anything_is_read(tmp_path: Path) -> None:
    config = RunConfig(target="r.example/p", manifest=str(tmp_path / "not-read.yaml"))
    with pytest.raises(InputError) as caught:
        plan(config, offline=True, compare=True, check_jobs=4)
    assert str(caught.value) == "--offline and --compare exclude each other: --compare asks the target"
    done = run_cli("plan", "--offline", "--compare", "--target", "r.example/p")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nvcf-mirror: error: --offline and --compare exclude each other: --compare asks the target"
    ]
