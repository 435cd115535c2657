"""verify: tag present, digest as expected, platform right — read from the target itself."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _args(sandbox: Sandbox, command: str, manifest: Path, ns: str, *extra: str) -> list[str]:
    return [
        command,
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        *extra,
    ]


def test_verify_passes_after_mirror_and_catches_wrong_architecture_and_missing_tags(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.index(f"{ns}/nvidia/multi", "1")
    source.image(f"{ns}/nvidia/single", "1")
    artifacts = [
        {"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1", "group": "test"} for n in ("multi", "single")
    ]
    manifest = write_manifest(tmp_path / "m.yaml", artifacts)
    assert run_cli(*_args(sandbox, "mirror", manifest, ns), env=sandbox.env()).returncode == 0

    ok = run_cli(*_args(sandbox, "verify", manifest, ns), env=sandbox.env())
    assert ok.returncode == 0, ok.stderr

    wrong = run_cli(
        *_args(sandbox, "verify", manifest, ns, "--platform", "linux/arm64", "--result-file", str(tmp_path / "v.json")),
        env=sandbox.env(),
    )
    assert wrong.returncode == 1
    multi = json.loads((tmp_path / "v.json").read_text())["artifacts"][0]
    assert multi["status"] == "failed"
    assert "linux/amd64 image where linux/arm64 is expected" in multi["error"] and "exec format error" in multi["error"]

    missing = write_manifest(
        tmp_path / "more.yaml",
        [*artifacts, {"type": "image", "source": f"nvcr.io/{ns}/nvidia/never:1", "group": "test"}],
    )
    absent = run_cli(*_args(sandbox, "verify", missing, ns), env=sandbox.env())
    assert absent.returncode == 1
    said = [line.split(" nvcf-mirror: ", 1)[1] for line in absent.stderr.splitlines() if "never" in line]
    assert said == [f"missing  {sandbox.target.host}/{ns}/never:1"], "missing, not 'mismatch X: X is missing'"
