"""provider_helper/usecases/status.py: the digest each selected artifact has at the target now, what Terraform's
outputs are read from. Real parts: the session's Distribution target (htpasswd), images pushed to it directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_manifest

from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig
from provider_helper.usecases.status import status


def test_each_selected_artifact_has_its_digest_at_the_target_or_none(
    sandbox: Sandbox, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = sandbox.target_factory()
    try:
        there = target.image(f"{ns}/here", "1.0")
    finally:
        target.close()
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": "nvcr.io/org/team/here:1.0", "group": "test"},
            {"type": "image", "source": "nvcr.io/org/team/gone:1.0", "group": "test"},
            {"type": "image", "source": "nvcr.io/org/team/other:1.0", "group": "other"},
        ],
        groups=[{"name": "test", "default": True}, {"name": "other"}],
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(sandbox.docker_config))
    jobs, found = status(RunConfig(target=f"{sandbox.target.host}/{ns}", manifest=str(manifest)))
    assert [j.key for j in jobs] == ["image:here:1.0", "image:gone:1.0"], "the selection: the default group"
    assert found == {"image:here:1.0": there.digest, "image:gone:1.0": None}
