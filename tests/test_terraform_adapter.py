"""terraform.py, the module's adapter: when its apply step prunes. The decision is the adapter's own, so
the copy and the prune are stood in for here (the module test runs them for real through Terraform)."""

from __future__ import annotations

import json
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


def _job(key: str, kind: str, name: str, tag: str, version: str) -> Any:
    target = SimpleNamespace(registry="registry.example", repository=f"prefix/{name}", tag=tag)
    return SimpleNamespace(key=key, target=target, artifact=SimpleNamespace(name=name, type=kind, version_text=version))


JOBS = [
    _job("image:app:1.2.0", "image", "app", "1.2.0", "1.2.0"),
    _job("chart:stack:0.6.0", "chart", "stack", "0.6.0", "0.6.0"),
]
DIGESTS = {"image:app:1.2.0": "sha256:" + "a" * 64, "chart:stack:0.6.0": "sha256:" + "c" * 64}


def test_the_status_outputs_hold_digest_pinned_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Terraform: "the outputs hold digest-pinned references (`image_uris`, `chart_refs`, `digests`,
    ...)". The adapter builds them from what the status step found; that step is stood in for (it reads a
    registry; the module test runs it for real), so this test is of the outputs' shape alone."""
    config = SimpleNamespace(target="registry.example/prefix", helm_values=lambda jobs: "")
    monkeypatch.setattr(terraform, "digests_at_target", lambda config: (JOBS, DIGESTS))
    answer = terraform.status(config)  # type: ignore[arg-type]
    assert json.loads(answer["image_uris"]) == {
        "app:1.2.0": f"registry.example/prefix/app@{DIGESTS['image:app:1.2.0']}"
    }
    assert json.loads(answer["chart_refs"]) == {
        "stack:0.6.0": f"registry.example/prefix/stack@{DIGESTS['chart:stack:0.6.0']}"
    }
    assert json.loads(answer["digests"]) == DIGESTS


def test_the_plan_shows_the_resolved_versions_in_the_versions_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Versions: "Terraform takes the same pins as `set_versions = { nvcf-base = "latest" }` and its plan
    shows the resolved versions in the `versions` output". Resolving is stood in for (it reads the sources;
    the module test plans for real): this is the output the adapter builds from the resolved jobs."""
    results = [
        ArtifactResult(
            j.key, j.artifact.type, "g", f"nvcr.io/org/{j.artifact.name}", f"t/{j.key}", digest=DIGESTS[j.key]
        )
        for j in JOBS
    ]
    config = SimpleNamespace(target="registry.example/prefix", signatures=True, access=SimpleNamespace(kind="registry"))
    monkeypatch.setattr(terraform, "resolve", lambda config: (JOBS, results))
    answer = terraform.plan(config)  # type: ignore[arg-type]
    assert json.loads(answer["versions"]) == {"image:app:1.2.0": "1.2.0", "chart:stack:0.6.0": "0.6.0"}
