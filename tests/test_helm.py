"""Classic Helm repositories (served over HTTP from a temp dir) converted to OCI charts as helm push does."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.stack import Sandbox


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def helm_repo(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "repo"
    (root / "charts").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _tgz(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def _file(name: str, text: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(text.encode())
    return info, text.encode()


def _chart(name: str, version: str, *extra: tuple[tarfile.TarInfo, bytes]) -> bytes:
    chart_yaml = yaml.safe_dump({
        "apiVersion": "v2", "name": name, "version": version, "description": "GPU operator stand-in", "appVersion": "v25",
        "home": "https://example.com/home", "sources": ["https://example.com/src"],
        "maintainers": [{"name": "NVIDIA", "email": "ops@example.com"}], "annotations": {"category": "gpu"},
    })
    return _tgz([_file(f"{name}/Chart.yaml", chart_yaml), _file(f"{name}/values.yaml", "a: 1\n"), *extra])


def _publish(root: Path, name: str, version: str, archive: bytes, *, digest: str | None = None, prov: bytes | None = None,
             absolute_base: str | None = None) -> None:
    filename = f"{name}-{version}.tgz"
    (root / "charts" / filename).write_bytes(archive)
    if prov is not None:
        (root / "charts" / f"{filename}.prov").write_bytes(prov)
    index_path = root / "index.yaml"
    index: dict[str, Any] = yaml.safe_load(index_path.read_text()) if index_path.exists() else {"apiVersion": "v1", "entries": {}}
    url = f"{absolute_base}/charts/{filename}" if absolute_base else f"charts/{filename}"
    entry = {"name": name, "version": version, "urls": [url], "digest": digest or hashlib.sha256(archive).hexdigest(), "created": "2025-05-01T10:00:00Z"}
    index["entries"].setdefault(name, []).insert(0, entry)
    index_path.write_text(yaml.safe_dump(index))


def _mirror(sandbox: Sandbox, manifest: Path, ns: str, result: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("mirror", "--manifest", str(manifest), "--target", f"{sandbox.target.host}/{ns}", "--result-file", str(result), env=sandbox.env())


def _classic(url: str, chart: str, version: str) -> dict[str, Any]:
    return {"type": "chart", "repo": url, "chart": chart, "version": version, "group": "test"}


def test_classic_charts_land_as_helm_push_writes_them(sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path) -> None:
    root, url = helm_repo
    archive = _chart("gpu-operator", "25.3.1")
    signed = _chart("signed", "1.0.0")
    plus = _chart("plus", "1.2.3+build.7")
    _publish(root, "gpu-operator", "25.3.1", archive)
    _publish(root, "signed", "1.0.0", signed, prov=b"-----BEGIN PGP SIGNED MESSAGE-----\nstand-in\n", absolute_base=url)
    _publish(root, "plus", "1.2.3+build.7", plus)
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "gpu-operator", "25.3.1"), _classic(url, "signed", "1.0.0"),
                                                    _classic(url, "plus", "1.2.3+build.7")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"

    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/gpu-operator:25.3.1", authfile=authfile)
    body = json.loads(raw)
    assert body["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert [layer["mediaType"] for layer in body["layers"]] == ["application/vnd.cncf.helm.chart.content.v1.tar+gzip"]
    assert body["layers"][0]["digest"] == sha256(archive), "the chart layer is the .tgz itself, as helm push stores it"
    annotations = body["annotations"]
    assert annotations["org.opencontainers.image.title"] == "gpu-operator" and annotations["org.opencontainers.image.version"] == "25.3.1"
    assert annotations["org.opencontainers.image.authors"] == "NVIDIA (ops@example.com)"
    assert annotations["org.opencontainers.image.created"] == "2025-05-01T10:00:00Z" and annotations["category"] == "gpu"
    config = json.loads(skopeo_raw_config(sandbox, f"{ns}/gpu-operator:25.3.1"))
    assert list(config)[:4] == ["name", "home", "sources", "version"] and config["apiVersion"] == "v2"

    signed_layers = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/signed:1.0.0", authfile=authfile))["layers"]
    assert [layer["mediaType"] for layer in signed_layers][1] == "application/vnd.cncf.helm.chart.provenance.v1.prov"
    assert json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/plus:1.2.3_build.7", authfile=authfile))["layers"][0]["digest"] == sha256(plus)

    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["artifacts"][0]["source"] == f"{url}/gpu-operator:25.3.1" and doc["artifacts"][2]["target"].endswith("/plus:1.2.3_build.7")
    again = _mirror(sandbox, manifest, ns, tmp_path / "again.json")
    assert again.returncode == 0
    assert [a["status"] for a in json.loads((tmp_path / "again.json").read_text())["artifacts"]] == ["present"] * 3


def skopeo_raw_config(sandbox: Sandbox, ref: str) -> bytes:
    import subprocess
    return subprocess.run(["skopeo", "inspect", "--config", "--raw", "--tls-verify=false", "--authfile", str(sandbox.docker_config / "config.json"),
                           f"docker://{sandbox.target.host}/{ref}"], capture_output=True, check=True).stdout


def _link(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, b""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_file("evil/../../outside.txt", "x"), "points outside the archive"),
        (_file("/etc/cron.d/evil", "x"), "points outside the archive"),
        (_link("evil/templates/passwd", "../../../etc/passwd"), "points outside the archive"),
    ],
    ids=["dot-dot", "absolute", "symlink-out"],
)
def test_malicious_chart_archives_are_refused(sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path,
                                             extra: tuple[tarfile.TarInfo, bytes], message: str) -> None:
    root, url = helm_repo
    _publish(root, "evil", "1.0.0", _chart("evil", "1.0.0", extra))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "evil", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 1
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["status"] == "failed" and message in entry["error"]
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/evil:1.0.0", authfile=sandbox.docker_config / "config.json")


def test_chart_whose_index_digest_is_wrong_is_rejected(sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path) -> None:
    root, url = helm_repo
    _publish(root, "tampered", "1.0.0", _chart("tampered", "1.0.0"), digest="0" * 64)
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "tampered", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 1
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["status"] == "failed" and "(the index gives sha256 000000" in entry["error"] and "does not match its digest" in entry["error"]
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/tampered:1.0.0", authfile=sandbox.docker_config / "config.json")


def test_unknown_chart_version_names_what_the_repository_has(sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path) -> None:
    root, url = helm_repo
    _publish(root, "gpu-operator", "v25.3.2", _chart("gpu-operator", "v25.3.2"))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "gpu-operator", "25.3.1"), _classic(url, "gpu-operator", "25.3.2")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    missing, found = json.loads((tmp_path / "r.json").read_text())["artifacts"]
    assert missing["status"] == "failed" and "no gpu-operator version 25.3.1 (recent: v25.3.2)" in missing["error"]
    assert found["status"] == "copied", "25.3.2 matches the repository's v25.3.2, as helm pull --version does"
    assert done.returncode == 1


@pytest.mark.parametrize(("published", "spelt"), [("v25.3.1", "25.3.1"), ("v25.3.1", "v25.3.1"), ("25.3.1", "v25.3.1")])
def test_a_chart_is_found_with_or_without_v_and_tagged_as_published(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path, published: str, spelt: str
) -> None:
    """helm.ngc.nvidia.com/nvidia publishes gpu-operator as v25.3.1: helm push would tag it v25.3.1; a chart
    published as 25.3.1 and pinned as v25.3.1 is tagged 25.3.1."""
    root, url = helm_repo
    archive = _chart("gpu-operator", published)
    _publish(root, "gpu-operator", published, archive)
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "gpu-operator", spelt)])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    artifact = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert artifact["target"] == f"{sandbox.target.host}/{ns}/gpu-operator:{published}"
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/gpu-operator:{published}", authfile=sandbox.docker_config / "config.json")
    assert json.loads(raw)["layers"][0]["digest"] == sha256(archive)


def test_latest_and_outdated_follow_the_helm_index(sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path) -> None:
    root, url = helm_repo
    for published in ("v25.3.0", "v25.3.1", "v25.10.0-rc.1"):
        _publish(root, "gpu-operator", published, _chart("gpu-operator", published))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "gpu-operator", "v25.3.0")])
    done = run_cli("mirror", "--manifest", str(manifest), "--target", f"{sandbox.target.host}/{ns}", "--set-version", "gpu-operator=latest",
                   "--result-file", str(tmp_path / "r.json"), env=sandbox.env())
    assert done.returncode == 0, done.stderr
    artifact = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert artifact["target"].endswith("/gpu-operator:v25.3.1") and artifact["resolved_from"] == "latest"
    listed = run_cli("outdated", "--manifest", str(manifest), "--output", "json", env=sandbox.env())
    assert listed.returncode == 0, listed.stderr
    row = json.loads(listed.stdout)["artifacts"][0]
    assert row["version"] == "v25.3.0" and row["newer"] == ["v25.3.1", "v25.10.0-rc.1"] and row["error"] is None


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_provenance_probe_refused_by_a_public_repository_counts_as_absent(sandbox: Sandbox, ns: str, tmp_path: Path, status: int) -> None:
    from hostile import Reply, ScriptedServer

    archive = _chart("app", "1.0.0")
    index = yaml.safe_dump({"apiVersion": "v1", "entries": {"app": [{"name": "app", "version": "1.0.0", "urls": ["charts/app-1.0.0.tgz"],
                                                                      "digest": hashlib.sha256(archive).hexdigest()}]}}).encode()

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.endswith("/index.yaml"):
            return Reply(200, {}, index)
        if path.endswith(".tgz"):
            return Reply(200, {}, archive)
        return Reply(status)

    repo = ScriptedServer("127.0.0.2", route)
    try:
        manifest = write_manifest(tmp_path / "m.yaml", [_classic(repo.url, "app", "1.0.0")])
        done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    finally:
        repo.close()
    assert done.returncode == 0, done.stderr
    layers = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.0.0", authfile=sandbox.docker_config / "config.json"))["layers"]
    assert len(layers) == 1
    assert {seen.headers.get("user-agent") for seen in repo.seen} == {f"nvcf-mirror/{version('nvcf-mirror')}"}
    assert [seen.path for seen in repo.seen].count("/index.yaml") == 1, "the index is read once a run (versions, then the copy)"


def test_relative_chart_urls_resolve_under_a_repository_served_below_a_path(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    """helm.ngc.nvidia.com/nvidia: index.yaml's charts/x.tgz is {repo}/charts/x.tgz, not {host}/charts/x.tgz."""
    root, url = helm_repo
    (root / "nvidia" / "charts").mkdir(parents=True)
    archive = _chart("gpu-operator", "25.3.1")
    _publish(root / "nvidia", "gpu-operator", "25.3.1", archive)
    _publish(root, "gpu-operator", "25.3.1", _chart("gpu-operator", "25.3.1", _file("gpu-operator/decoy.txt", "the host's root")))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(f"{url}/nvidia", "gpu-operator", "25.3.1")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/gpu-operator:25.3.1", authfile=sandbox.docker_config / "config.json")
    assert json.loads(raw)["layers"][0]["digest"] == sha256(archive)


def test_a_charts_own_annotations_do_not_override_the_version_and_title_helm_push_sets(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    chart_yaml = yaml.safe_dump({"apiVersion": "v2", "name": "annotated", "version": "1.0.0", "annotations": {
        "org.opencontainers.image.version": "9.9.9", "org.opencontainers.image.title": "something-else", "team": "gpu"}})
    _publish(root, "annotated", "1.0.0", _tgz([_file("annotated/Chart.yaml", chart_yaml)]))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "annotated", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    annotations = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/annotated:1.0.0", authfile=sandbox.docker_config / "config.json"))["annotations"]
    assert annotations["org.opencontainers.image.version"] == "1.0.0" and annotations["org.opencontainers.image.title"] == "annotated"
    assert annotations["team"] == "gpu", "the chart's other annotations are kept, as helm push keeps them"
