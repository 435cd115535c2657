"""Unit tests of provider_helper/doctor.py: a host that does not answer gets a fix about the host, not credentials."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("host", "reason", "fix"),
    [
        (
            "nvcf-mirror-test.invalid",
            "the name does not resolve (check the host name, DNS and HTTPS_PROXY)",
            "the host name does not resolve from here: check its spelling, DNS, and HTTPS_PROXY",
        ),
        (
            "127.0.0.1:{port}",
            "connection refused (nothing listens on that port)",
            "make the host reachable from here (its port, a firewall, HTTPS_PROXY)",
        ),
    ],
)
def test_doctor_gives_a_host_that_does_not_answer_a_fix_about_the_host_not_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, reason: str, fix: str
) -> None:
    """README Use: "`nvcf-mirror doctor` | ... a host that does not answer gets a fix about the host, not
    credentials". The source pull and target push lines, whole, for a name that does not resolve (`.invalid`
    never does) and a port nothing listens on."""
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    host = host.format(port=_closed_port())
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/nvidia/app:1", "group": "test"}]
    )
    done = run_cli(
        "doctor", "--manifest", str(manifest), "--source-registry", host, "--target", f"{host}/c1", "--retries", "1"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"failed  source pull: {host}/nvidia/app:1: ping {host}: cannot reach {host}: {reason} (fix: {fix})" in lines
    assert f"failed  target push: {host}/c1/app: ping {host}: cannot reach {host}: {reason} (fix: {fix})" in lines
    assert "credentials" not in done.stdout and "NGC_API_KEY" not in done.stdout
