"""provider_helper/usecases/wiring.py: the preflight, the payloads and the copy engine wired together. Real parts:
the session's Distribution registries (source as nvcr.io, target), a closed loopback port for a source that does
not answer; the CLI runs in this process, as a user runs it."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

from helpers import sandbox_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mirror(sandbox: Sandbox, manifest: Path, ns: str, result: Path, *extra: str) -> dict[str, object]:
    done = sandbox_cli(sandbox, "mirror", manifest, "--result-file", str(result), *extra, prefix=ns)
    doc: dict[str, object] = json.loads(result.read_text())
    doc["exit"], doc["stderr"] = done.returncode, done.stderr
    return doc


def test_artifacts_of_an_unreachable_source_fail_at_once_and_results_keep_the_selections_order(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README preflight: "a source that cannot be reached fails its artifacts at once with that one reason, said once
    ("…: 41 artifacts are not tried"); the others are still copied, exit 1". The result document lists the artifacts
    in the selection's order, the failed one where it stood."""
    for name in ("a", "c"):
        source.image(f"{ns}/nvidia/{name}", "1")
    down = f"127.0.0.1:{closed_port()}"
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/a:1", "group": "test"},
            {"type": "image", "source": f"{down}/org/b:1", "group": "test"},
            {"type": "image", "source": f"{down}/org/d:1", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/c:1", "group": "test"},
        ],
    )
    doc = _mirror(sandbox, manifest, ns, tmp_path / "r.json", "--retries", "1")
    assert doc["exit"] == 1
    artifacts = doc["artifacts"]
    assert isinstance(artifacts, list)
    assert [(a["key"], a["status"]) for a in artifacts] == [
        ("image:a:1", "copied"),
        ("image:b:1", "failed"),
        ("image:d:1", "failed"),
        ("image:c:1", "copied"),
    ]
    reason = artifacts[1]["error"]
    assert down in reason and artifacts[2]["error"] == reason
    said = [line for line in str(doc["stderr"]).splitlines() if "not tried" in line]
    assert len(said) == 1 and re.search(rf"nvcf-mirror: {re.escape(reason)}: 2 artifacts are not tried$", said[0]), said


def test_no_signatures_leaves_what_is_attached_behind_and_the_default_carries_it(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README: "plan, mirror, save and load take --no-signatures"; signatures are copied by default."""
    signed = source.image(f"{ns}/nvidia/signed", "1.0")
    source.cosign(f"{ns}/nvidia/signed", signed)
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/signed:1.0", "group": "test"}]
    )
    left = _mirror(sandbox, manifest, f"{ns}-without", tmp_path / "without.json", "--no-signatures")
    assert left["exit"] == 0, left["stderr"]
    assert left["summary"]["signatures_copied"] == 0  # type: ignore[index]
    carried = _mirror(sandbox, manifest, f"{ns}-with", tmp_path / "with.json")
    assert carried["exit"] == 0, carried["stderr"]
    assert carried["summary"]["signatures_copied"] == 1  # type: ignore[index]
