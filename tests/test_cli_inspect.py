"""provider_helper/cli/inspect.py: ``outdated`` and ``doctor`` as the CLI runs them. Hosts that do not answer are
closed loopback ports; what a source publishes comes from the session's Distribution registry (as nvcr.io)."""

from __future__ import annotations

import json
import platform
import socket
from pathlib import Path

from helpers import run_cli, sandbox_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

REACHABLE_FIX = "(fix: make the host reachable from here (its port, a firewall, HTTPS_PROXY))"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _manifest(tmp_path: Path, *refs: str) -> Path:
    return write_manifest(tmp_path / "m.yaml", [{"type": "image", "source": ref, "group": "test"} for ref in refs])


def test_doctor_prints_one_line_per_check_and_exits_1_when_one_failed(tmp_path: Path) -> None:
    """README doctor: "one line per check: ... target push rights, platform choice; a host that does not answer
    gets a fix about the host, not credentials"; a failed check is exit 1."""
    source, target = f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"
    manifest = _manifest(tmp_path, "nvcr.io/org/team/a:1.0")
    done = run_cli(
        "doctor", "--manifest", str(manifest), "--source-registry", source, "--target", f"{target}/p", "--retries", "1"
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"failed  source pull: {source}/org/team/a:1.0: ") and lines[0].endswith(REACHABLE_FIX)
    assert lines[1].startswith(f"failed  target push: {target}/p/a: ") and lines[1].endswith(REACHABLE_FIX)
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    assert lines[2].startswith(("ok      platform: mirroring linux/amd64", "warn    platform: "))
    assert machine in lines[2]


def test_doctor_exits_0_when_every_check_passes(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> None:
    source.image(f"{ns}/nvidia/a", "1.0")
    manifest = _manifest(tmp_path, f"nvcr.io/{ns}/nvidia/a:1.0")
    done = sandbox_cli(sandbox, "doctor", manifest, "--platform", "linux/amd64", prefix=ns)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["ok      source pull", "ok      target push", "ok      platform"]
    assert lines[1] == f"ok      target push: {sandbox.target.host}/{ns}/a accepts uploads"


def test_outdated_reports_a_source_that_cannot_be_asked_on_its_line_and_exits_0(tmp_path: Path) -> None:
    """outdated --help: "A source that cannot be asked is reported on its artifact's line; the command still
    exits 0"; --output json is {"version": 1, "artifacts": [...]}."""
    source = f"127.0.0.1:{closed_port()}"
    manifest = _manifest(tmp_path, "nvcr.io/org/team/a:1.0")
    done = run_cli(
        "outdated", "--manifest", str(manifest), "--source-registry", source, "--retries", "1", "--output", "json"
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["version"] == 1 and len(doc["artifacts"]) == 1
    row = doc["artifacts"][0]
    assert {k: row[k] for k in ("key", "type", "name", "version", "newer")} == {
        "key": "image:a:1.0",
        "type": "image",
        "name": "a",
        "version": "1.0",
        "newer": [],
    }
    assert source in row["error"]


def test_outdated_lists_the_newer_versions_of_the_same_flavour_and_up_to_date(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """outdated --help: newer means of the same flavour, ordered by semantic version; the table shows the
    five newest (… before them when there are more) or "up to date", one line per row when piped."""
    for tag in ("1.0", "1.1", "1.2", "2.0-nonroot"):
        source.image(f"{ns}/nvidia/few", tag)
    for minor in range(8):
        source.image(f"{ns}/nvidia/many", f"1.{minor}")
    source.image(f"{ns}/nvidia/latest", "3.0")
    manifest = _manifest(
        tmp_path, f"nvcr.io/{ns}/nvidia/few:1.0", f"nvcr.io/{ns}/nvidia/many:1.0", f"nvcr.io/{ns}/nvidia/latest:3.0"
    )
    args = ["outdated", "--manifest", str(manifest), "--source-registry", sandbox.source.host]
    done = run_cli(*args, "--output", "json", env=sandbox.env())
    assert done.returncode == 0, done.stderr
    newer = {row["name"]: row["newer"] for row in json.loads(done.stdout)["artifacts"]}
    assert newer == {"few": ["1.1", "1.2"], "many": [f"1.{m}" for m in range(1, 8)], "latest": []}
    done = run_cli(*args, env=sandbox.env())
    assert done.returncode == 0, done.stderr
    rows = {line.split("│")[2].strip(): line for line in done.stdout.splitlines() if line.count("│") == 6}
    assert "1.1, 1.2" in rows["few"]
    assert "… 1.3, 1.4, 1.5, 1.6, 1.7" in rows["many"]
    assert "up to date" in rows["latest"]


def test_outdated_shows_a_source_that_cannot_be_asked_in_its_rows_note(tmp_path: Path) -> None:
    """outdated --help: "A source that cannot be asked is reported on its artifact's line; the command still exits 0"
    (the table's note column; its newer column says unknown, not up to date)."""
    source = f"127.0.0.1:{closed_port()}"
    manifest = _manifest(tmp_path, "nvcr.io/org/team/a:1.0")
    done = run_cli("outdated", "--manifest", str(manifest), "--source-registry", source, "--retries", "1")
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.count("│") == 6]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:4] == ["image", "a", "1.0", "unknown"] and source in cells[4], cells
