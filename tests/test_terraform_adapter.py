"""terraform.py, the module's adapter: when its apply step prunes. The decision is the adapter's own, so
the copy and the prune are stood in for here (the module test runs them for real through Terraform)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from provider_helper import terraform
from provider_helper.results import ArtifactResult, Status


def _apply(monkeypatch: pytest.MonkeyPatch, statuses: list[Status], prune: str) -> tuple[int, list[Any]]:
    pruned: list[Any] = []
    config = SimpleNamespace(target="registry.example/prefix", jobs=lambda: [])
    results = [
        ArtifactResult(f"image:app{n}:1.0", "image", "g", f"nvcr.io/org/app{n}:1.0", "t", status=s)
        for n, s in enumerate(statuses)
    ]
    monkeypatch.setattr(terraform, "config_from", lambda settings: config)
    monkeypatch.setattr(terraform, "setup_logging", lambda: None)
    monkeypatch.setattr(terraform, "copy_to_target", lambda *args, **kwargs: (results, 0.1))
    monkeypatch.setattr(terraform, "prune_superseded", pruned.append)
    code = terraform.apply({"create_repos": "false", "prune_superseded": prune})
    return code, pruned


def test_prune_superseded_runs_after_a_copy_in_which_nothing_failed_and_only_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README Upgrading: "In Terraform, prune_superseded = true runs the same prune after every copy in which
    nothing failed.\""""
    code, pruned = _apply(monkeypatch, ["copied", "present"], "true")
    assert code == 0 and len(pruned) == 1
    code, pruned = _apply(monkeypatch, ["copied", "failed"], "true")
    assert code == 1 and pruned == [], "a copy in which an artifact failed prunes nothing"
    code, pruned = _apply(monkeypatch, ["copied"], "false")
    assert code == 0 and pruned == [], "prune_superseded defaults to off"
