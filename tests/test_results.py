"""provider_helper/results.py: the result document (docs/CONTRACTS.md, "The result document")."""

from __future__ import annotations

from provider_helper.results import ArtifactResult, document


def _result(resolved_from: str | None = None) -> ArtifactResult:
    return ArtifactResult(
        "image:nats:2.10.22",
        "image",
        "main",
        "docker.io/library/nats:2.10.22",
        "r.internal/p/nats:2.10.22",
        resolved_from=resolved_from,
    )


def test_resolved_from_is_written_latest_where_latest_chose_the_version_and_left_out_elsewhere() -> None:
    """README Versions: the resolved version is "what the result document records (with
    "resolved_from": "latest")"; CONTRACTS: "Extensions, present only where they apply: ... resolved_from
    ("latest" when --set-version NAME=latest chose the version)"."""
    resolved, pinned = document("r.internal/p", [_result(resolved_from="latest"), _result()], 1.0)["artifacts"]
    assert resolved["resolved_from"] == "latest"
    assert "resolved_from" not in pinned and "note" not in pinned, pinned
