"""provider_helper/cli/mirror.py: plan, mirror and values as the CLI parses them. The use cases are stood in for
(they read registries; tests/test_mirror.py runs them for real): what is under test is that each flag reaches them."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import run_cli

from provider_helper.cli import mirror as mirror_cli
from provider_helper.mirror.engine import EngineOptions
from provider_helper.usecases import plan as plan_usecase

TARGET = "registry.example/prefix"


def test_the_copy_flags_reach_the_engine_and_default_to_the_readmes(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Performance: "--blob-jobs (16) ... --jobs (8) and --check-jobs (32) bound artifacts copied and compared
    at once"; --mount-from and --recheck-signatures go with them; --dry-run and --create-repos to the use case."""
    seen: list[dict[str, Any]] = []

    def mirror(config: Any, options: EngineOptions, **kwargs: Any) -> tuple[list[Any], list[Any], float]:
        seen.append({"options": options, **kwargs})
        return [], [], 0.0

    monkeypatch.setattr(mirror_cli, "mirror_usecase", mirror)
    assert run_cli("mirror", "--target", TARGET).returncode == 0
    given = ("--jobs", "2", "--blob-jobs", "3", "--check-jobs", "5", "--mount-from", "other", "--recheck-signatures")
    assert run_cli("mirror", "--target", TARGET, *given, "--dry-run", "--create-repos").returncode == 0
    unset, set_ = seen
    assert (unset["options"].jobs, unset["options"].blob_jobs, unset["options"].check_jobs) == (8, 16, 32)
    assert (unset["dry_run"], unset["create_repos"], unset["options"].recheck_signatures) == (False, False, False)
    options = set_["options"]
    assert (options.jobs, options.blob_jobs, options.check_jobs, options.mount_from) == (2, 3, 5, ("other",))
    assert (options.recheck_signatures, set_["dry_run"], set_["create_repos"]) == (True, True, True)


def test_plan_jobs_are_the_sources_resolved_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Performance: "plan --jobs (32): sources resolved at once"; --offline and --compare reach the use case."""
    seen: list[dict[str, Any]] = []

    def plan(config: Any, **kwargs: Any) -> tuple[list[Any], list[Any]]:
        seen.append(kwargs)
        return [], []

    monkeypatch.setattr(plan_usecase, "plan", plan)
    assert run_cli("plan", "--target", TARGET).returncode == 0
    assert run_cli("plan", "--target", TARGET, "--jobs", "4", "--offline", "--compare").returncode == 0
    assert seen == [
        {"offline": False, "compare": False, "check_jobs": 32},
        {"offline": True, "compare": True, "check_jobs": 4},
    ]
