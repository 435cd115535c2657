"""provider_helper/cli/verify.py: verify as the CLI parses it. The use case is stood in for (it reads registries;
tests/test_verify.py runs it for real): what is under test is that its flags reach it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli

from provider_helper.archive_members import ExtractLimits
from provider_helper.usecases import verify as verify_usecase


def test_signatures_from_and_the_extract_limits_reach_the_use_case(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """README verify: "(and, with --signatures, every signature the source has)"; --from LAYOUT; the archive limits."""
    seen: list[tuple[Any, ...]] = []

    def verify(
        config: Any, from_path: str | None, limits: ExtractLimits, *, check_signatures: bool
    ) -> tuple[list[Any], float]:
        seen.append((config.target, from_path, limits, check_signatures))
        return [], 0.0

    monkeypatch.setattr(verify_usecase, "verify", verify)
    assert run_cli("verify", "--target", "registry.example/p").returncode == 0
    bundle = str(tmp_path / "bundle")
    assert (
        run_cli(
            "verify", "--target", "registry.example/p", "--signatures", "--from", bundle, "--max-extract-members", "9"
        ).returncode
        == 0
    )
    assert seen == [
        ("registry.example/p", None, ExtractLimits(), False),
        ("registry.example/p", bundle, ExtractLimits(max_members=9), True),
    ]
