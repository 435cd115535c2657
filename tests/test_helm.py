"""Classic Helm repositories (served over HTTP from a temp dir) converted to OCI charts as helm push does."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
import readme_text
import yaml
from helpers import run_cli, sha256, skopeo_raw, write_manifest
from hostile import Reply, ScriptedServer

from provider_helper.artifacts import Artifact
from provider_helper.errors import RegistryError
from provider_helper.fetch import Fetcher
from provider_helper.mirror import helm as helm_module
from provider_helper.mirror.chartjson import FIXED_CREATED
from provider_helper.mirror.plan import Job
from provider_helper.oci.manifest import OCI_MANIFEST
from provider_helper.oci.reference import Reference
from provider_helper.registry.credentials import CredentialStore
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.registry import LocalRegistry
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
    chart_yaml = yaml.safe_dump(
        {
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "description": "GPU operator stand-in",
            "appVersion": "v25",
            "home": "https://example.com/home",
            "sources": ["https://example.com/src"],
            "maintainers": [{"name": "NVIDIA", "email": "ops@example.com"}],
            "annotations": {"category": "gpu"},
        }
    )
    return _tgz([_file(f"{name}/Chart.yaml", chart_yaml), _file(f"{name}/values.yaml", "a: 1\n"), *extra])


def _publish(
    root: Path,
    name: str,
    version: str,
    archive: bytes,
    *,
    digest: str | None = None,
    prov: bytes | None = None,
    absolute_base: str | None = None,
) -> None:
    filename = f"{name}-{version}.tgz"
    (root / "charts" / filename).write_bytes(archive)
    if prov is not None:
        (root / "charts" / f"{filename}.prov").write_bytes(prov)
    index_path = root / "index.yaml"
    index: dict[str, Any] = (
        yaml.safe_load(index_path.read_text()) if index_path.exists() else {"apiVersion": "v1", "entries": {}}
    )
    url = f"{absolute_base}/charts/{filename}" if absolute_base else f"charts/{filename}"
    entry = {
        "name": name,
        "version": version,
        "urls": [url],
        "digest": digest or hashlib.sha256(archive).hexdigest(),
        "created": "2025-05-01T10:00:00Z",
    }
    index["entries"].setdefault(name, []).insert(0, entry)
    index_path.write_text(yaml.safe_dump(index))


def _mirror(sandbox: Sandbox, manifest: Path, ns: str, result: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--result-file",
        str(result),
        env=sandbox.env(),
    )


def _classic(url: str, chart: str, version: str) -> dict[str, Any]:
    return {"type": "chart", "repo": url, "chart": chart, "version": version, "group": "test"}


def test_classic_charts_land_as_helm_push_writes_them(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    archive = _chart("gpu-operator", "25.3.1")
    signed = _chart("signed", "1.0.0")
    plus = _chart("plus", "1.2.3+build.7")
    _publish(root, "gpu-operator", "25.3.1", archive)
    _publish(root, "signed", "1.0.0", signed, prov=b"-----BEGIN PGP SIGNED MESSAGE-----\nstand-in\n", absolute_base=url)
    _publish(root, "plus", "1.2.3+build.7", plus)
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            _classic(url, "gpu-operator", "25.3.1"),
            _classic(url, "signed", "1.0.0"),
            _classic(url, "plus", "1.2.3+build.7"),
        ],
    )
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    authfile = sandbox.docker_config / "config.json"

    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/gpu-operator:25.3.1", authfile=authfile)
    body = json.loads(raw)
    assert body["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert [layer["mediaType"] for layer in body["layers"]] == ["application/vnd.cncf.helm.chart.content.v1.tar+gzip"]
    assert body["layers"][0]["digest"] == sha256(archive), "the chart layer is the .tgz itself, as helm push stores it"
    annotations = body["annotations"]
    assert (
        annotations["org.opencontainers.image.title"] == "gpu-operator"
        and annotations["org.opencontainers.image.version"] == "25.3.1"
    )
    assert annotations["org.opencontainers.image.authors"] == "NVIDIA (ops@example.com)"
    assert (
        annotations["org.opencontainers.image.created"] == "2025-05-01T10:00:00Z" and annotations["category"] == "gpu"
    )
    config = json.loads(skopeo_raw_config(sandbox, f"{ns}/gpu-operator:25.3.1"))
    assert list(config)[:4] == ["name", "home", "sources", "version"] and config["apiVersion"] == "v2"

    signed_layers = json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/signed:1.0.0", authfile=authfile))["layers"]
    assert sorted(layer["mediaType"] for layer in signed_layers) == [
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "application/vnd.cncf.helm.chart.provenance.v1.prov",
    ]
    assert json.loads(skopeo_raw(f"{sandbox.target.host}/{ns}/plus:1.2.3_build.7", authfile=authfile))["layers"][0][
        "digest"
    ] == sha256(plus)

    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["artifacts"][0]["source"] == f"{url}/gpu-operator:25.3.1" and doc["artifacts"][2]["target"].endswith(
        "/plus:1.2.3_build.7"
    )
    again = _mirror(sandbox, manifest, ns, tmp_path / "again.json")
    assert again.returncode == 0
    assert [a["status"] for a in json.loads((tmp_path / "again.json").read_text())["artifacts"]] == ["present"] * 3


def skopeo_raw_config(sandbox: Sandbox, ref: str) -> bytes:
    import subprocess

    return subprocess.run(
        [
            "skopeo",
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            "--authfile",
            str(sandbox.docker_config / "config.json"),
            f"docker://{sandbox.target.host}/{ref}",
        ],
        capture_output=True,
        check=True,
    ).stdout


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
def test_malicious_chart_archives_are_refused(
    sandbox: Sandbox,
    helm_repo: tuple[Path, str],
    ns: str,
    tmp_path: Path,
    extra: tuple[tarfile.TarInfo, bytes],
    message: str,
) -> None:
    root, url = helm_repo
    _publish(root, "evil", "1.0.0", _chart("evil", "1.0.0", extra))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "evil", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 1
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert entry["status"] == "failed" and message in entry["error"]
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/evil:1.0.0", authfile=sandbox.docker_config / "config.json")


def test_chart_whose_index_digest_is_wrong_is_rejected(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    _publish(root, "tampered", "1.0.0", _chart("tampered", "1.0.0"), digest="0" * 64)
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "tampered", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 1
    entry = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert (
        entry["status"] == "failed"
        and "(the index gives sha256 000000" in entry["error"]
        and "does not match its digest" in entry["error"]
    )
    with pytest.raises(LookupError):
        skopeo_raw(f"{sandbox.target.host}/{ns}/tampered:1.0.0", authfile=sandbox.docker_config / "config.json")


def test_unknown_chart_version_names_what_the_repository_has(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    _publish(root, "gpu-operator", "v25.3.2", _chart("gpu-operator", "v25.3.2"))
    manifest = write_manifest(
        tmp_path / "m.yaml", [_classic(url, "gpu-operator", "25.3.1"), _classic(url, "gpu-operator", "25.3.2")]
    )
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
    raw = skopeo_raw(
        f"{sandbox.target.host}/{ns}/gpu-operator:{published}", authfile=sandbox.docker_config / "config.json"
    )
    assert json.loads(raw)["layers"][0]["digest"] == sha256(archive)


def test_latest_and_outdated_follow_the_helm_index(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    for published in ("v25.3.0", "v25.3.1", "v25.10.0-rc.1"):
        _publish(root, "gpu-operator", published, _chart("gpu-operator", published))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "gpu-operator", "v25.3.0")])
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--set-version",
        "gpu-operator=latest",
        "--result-file",
        str(tmp_path / "r.json"),
        env=sandbox.env(),
    )
    assert done.returncode == 0, done.stderr
    artifact = json.loads((tmp_path / "r.json").read_text())["artifacts"][0]
    assert artifact["target"].endswith("/gpu-operator:v25.3.1") and artifact["resolved_from"] == "latest"
    listed = run_cli("outdated", "--manifest", str(manifest), "--output", "json", env=sandbox.env())
    assert listed.returncode == 0, listed.stderr
    row = json.loads(listed.stdout)["artifacts"][0]
    assert row["version"] == "v25.3.0" and row["newer"] == ["v25.3.1", "v25.10.0-rc.1"] and row["error"] is None


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_provenance_probe_refused_by_a_public_repository_counts_as_absent(
    sandbox: Sandbox, ns: str, tmp_path: Path, status: int
) -> None:
    from hostile import Reply, ScriptedServer

    archive = _chart("app", "1.0.0")
    index = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "entries": {
                "app": [
                    {
                        "name": "app",
                        "version": "1.0.0",
                        "urls": ["charts/app-1.0.0.tgz"],
                        "digest": hashlib.sha256(archive).hexdigest(),
                    }
                ]
            },
        }
    ).encode()

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
    layers = json.loads(
        skopeo_raw(f"{sandbox.target.host}/{ns}/app:1.0.0", authfile=sandbox.docker_config / "config.json")
    )["layers"]
    assert len(layers) == 1
    assert {seen.headers.get("user-agent") for seen in repo.seen} == {f"nvcf-mirror/{version('nvcf-mirror')}"}
    assert [seen.path for seen in repo.seen].count("/index.yaml") == 1, (
        "the index is read once a run (versions, then the copy)"
    )


def test_relative_chart_urls_resolve_under_a_repository_served_below_a_path(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    """helm.ngc.nvidia.com/nvidia: index.yaml's charts/x.tgz is {repo}/charts/x.tgz, not {host}/charts/x.tgz."""
    root, url = helm_repo
    (root / "nvidia" / "charts").mkdir(parents=True)
    archive = _chart("gpu-operator", "25.3.1")
    _publish(root / "nvidia", "gpu-operator", "25.3.1", archive)
    _publish(
        root,
        "gpu-operator",
        "25.3.1",
        _chart("gpu-operator", "25.3.1", _file("gpu-operator/decoy.txt", "the host's root")),
    )
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(f"{url}/nvidia", "gpu-operator", "25.3.1")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    raw = skopeo_raw(f"{sandbox.target.host}/{ns}/gpu-operator:25.3.1", authfile=sandbox.docker_config / "config.json")
    assert json.loads(raw)["layers"][0]["digest"] == sha256(archive)


def test_a_charts_own_annotations_do_not_override_the_version_and_title_helm_push_sets(
    sandbox: Sandbox, helm_repo: tuple[Path, str], ns: str, tmp_path: Path
) -> None:
    root, url = helm_repo
    chart_yaml = yaml.safe_dump(
        {
            "apiVersion": "v2",
            "name": "annotated",
            "version": "1.0.0",
            "annotations": {
                "org.opencontainers.image.version": "9.9.9",
                "org.opencontainers.image.title": "something-else",
                "team": "gpu",
            },
        }
    )
    _publish(root, "annotated", "1.0.0", _tgz([_file("annotated/Chart.yaml", chart_yaml)]))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, "annotated", "1.0.0")])
    done = _mirror(sandbox, manifest, ns, tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    annotations = json.loads(
        skopeo_raw(f"{sandbox.target.host}/{ns}/annotated:1.0.0", authfile=sandbox.docker_config / "config.json")
    )["annotations"]
    assert (
        annotations["org.opencontainers.image.version"] == "1.0.0"
        and annotations["org.opencontainers.image.title"] == "annotated"
    )
    assert annotations["team"] == "gpu", "the chart's other annotations are kept, as helm push keeps them"


# -- the real Helm 3 and Helm 4 (tests/realclients.py) ---------------------------------------------------------

RICH_CHART = """apiVersion: v2
name: rich
version: 1.2.3+build.4
kubeVersion: ">=1.25.0-0"
description: "Démo chart for <GPU> & co,
  written over two lines\\tand a tab"
type: application
appVersion: "2.0"
home: https://example.com/home
sources: [https://example.com/src, https://example.com/src2]
keywords: [gpu, 日本]
icon: https://example.com/i.png
annotations:
  zeta: last
  alpha: "a <b> & ü"
  org.opencontainers.image.title: overridden
maintainers:
  - url: https://x.example
    email: a@example.com
    name: Ännä
  - name: Bob
  - email: nobody@example.com
dependencies:
  - repository: https://charts.example.com
    version: "~1.0"
    name: sub
    condition: sub.enabled
    tags: [t1]
    alias: subby
    import-values: [data, {parent: p, child: c}]
  - name: local
    version: 0.1.0
"""


@pytest.fixture(scope="module")
def signed_charts(helms: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Charts packaged by the real Helm: one with maintainers, dependencies, a kubeVersion with >=, non-ASCII
    text and a .prov signed by a test key (gpg, RSA: what Helm's OpenPGP reads); one plain, unsigned."""
    work = tmp_path_factory.mktemp("signed-charts")
    gnupg = work / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    gpg = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "Chart Signer <signer@example.com>", "rsa2048", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    for ring, export in (("secring.gpg", "--export-secret-keys"), ("pubring.gpg", "--export")):
        (work / ring).write_bytes(subprocess.run([*gpg, export], env=env, check=True, capture_output=True).stdout)
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)
    rich = work / "src" / "rich"
    for sub, sub_version in (("sub", "1.0.1"), ("local", "0.1.0")):
        (rich / "charts" / sub).mkdir(parents=True)
        (rich / "charts" / sub / "Chart.yaml").write_text(f"apiVersion: v2\nname: {sub}\nversion: {sub_version}\n")
    (rich / "templates").mkdir()
    (rich / "Chart.yaml").write_text(RICH_CHART)
    (rich / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-rich\n"
    )
    plain = work / "src" / "plain"
    (plain / "templates").mkdir(parents=True)
    (plain / "Chart.yaml").write_text("apiVersion: v2\nname: plain\nversion: 0.3.0\ndescription: A plain chart\n")
    (plain / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
    legacy = work / "src" / "legacy"  # apiVersion v1: dependencies in requirements.yaml; a numeric appVersion
    (legacy / "charts" / "sub").mkdir(parents=True)
    (legacy / "Chart.yaml").write_text("apiVersion: v1\nname: legacy\nversion: 0.9.0\nappVersion: 1.10\n")
    (legacy / "requirements.yaml").write_text(
        "dependencies:\n- name: sub\n  version: 1.0.1\n  repository: https://charts.example.com\n"
    )
    (legacy / "charts" / "sub" / "Chart.yaml").write_text("apiVersion: v1\nname: sub\nversion: 1.0.1\n")
    out = work / "packaged"
    helms["3"].run(
        "package", "--sign", "--key", "Chart Signer", "--keyring", str(work / "secring.gpg"), str(rich), "-d", str(out)
    )
    helms["3"].run("package", str(plain), "-d", str(out))
    helms["3"].run("package", str(legacy), "-d", str(out))
    yield {
        "dir": out,
        "pubring": work / "pubring.gpg",
        "rich": out / "rich-1.2.3+build.4.tgz",
        "plain": out / "plain-0.3.0.tgz",
        "legacy": out / "legacy-0.9.0.tgz",
    }


def _registry_get(registry: LocalRegistry, path: str) -> bytes:
    return httpx.get(f"{registry.url}/v2/{path}", headers={"Accept": OCI_MANIFEST}, timeout=30).content


def test_classic_charts_are_byte_identical_to_what_helm_3_and_helm_4_push_but_created(
    open_registry: LocalRegistry,
    helms: dict[str, Any],
    signed_charts: dict[str, Any],
    helm_repo: tuple[Path, str],
    ns: str,
    tmp_path: Path,
) -> None:
    """Config and manifest equal the real ``helm push`` of the same .tgz (and .prov), with Helm 3.17 and 4.1,
    apart from ``org.opencontainers.image.created``: the index's time in whole seconds UTC, else the fixed time.
    The legacy chart's dependencies are in requirements.yaml, which Helm reads into the same metadata."""
    root, url = helm_repo
    charts = {
        "rich": ("1.2.3+build.4", "2025-05-01T10:00:00.123456789+02:00", "2025-05-01T08:00:00Z"),
        "plain": ("0.3.0", None, FIXED_CREATED),
        "legacy": ("0.9.0", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
    }
    for name, (chart_version, created, _) in charts.items():
        archive = signed_charts[name].read_bytes()
        prov = signed_charts[name].with_name(signed_charts[name].name + ".prov")
        _publish(root, name, chart_version, archive, prov=prov.read_bytes() if prov.exists() else None)
        index = yaml.safe_load((root / "index.yaml").read_text())
        index["entries"][name][0].pop("created")
        if created:
            index["entries"][name][0]["created"] = created
        (root / "index.yaml").write_text(yaml.safe_dump(index))
    manifest = write_manifest(tmp_path / "m.yaml", [_classic(url, name, v) for name, (v, _, _) in charts.items()])
    done = run_cli("mirror", "--manifest", str(manifest), "--target", f"{open_registry.host}/{ns}/ours")
    assert done.returncode == 0, done.stderr
    for major, helm in helms.items():
        for name, (chart_version, _, ours_created) in charts.items():
            helm.run("push", str(signed_charts[name]), f"oci://{open_registry.host}/{ns}/helm{major}", "--plain-http")
            tag = chart_version.replace("+", "_")
            theirs = _registry_get(open_registry, f"{ns}/helm{major}/{name}/manifests/{tag}")
            ours = _registry_get(open_registry, f"{ns}/ours/{name}/manifests/{tag}")
            their_body, our_body = json.loads(theirs), json.loads(ours)
            assert our_body["annotations"]["org.opencontainers.image.created"] == ours_created
            pushed_at = their_body["annotations"]["org.opencontainers.image.created"]
            assert ours == theirs.replace(pushed_at.encode(), ours_created.encode()), f"Helm {major}: {name}'s manifest"
            config = _registry_get(open_registry, f"{ns}/helm{major}/{name}/blobs/{their_body['config']['digest']}")
            assert _registry_get(open_registry, f"{ns}/ours/{name}/blobs/{our_body['config']['digest']}") == config
            assert len(our_body["layers"]) == (2 if name == "rich" else 1)
            if name == "rich":  # the chart exercises what Helm writes its own way
                assert list(json.loads(config)["maintainers"][0]) == ["name", "email", "url"]
                assert b"\\u003e=1.25.0-0" in config and "Ännä".encode() in config
            if name == "legacy":
                legacy = json.loads(config)
                assert legacy["dependencies"][0]["name"] == "sub" and legacy["appVersion"] == "1.1"


def test_helm_pulls_verifies_and_templates_charts_from_the_mirror_and_from_a_loaded_bundle(
    open_registry: LocalRegistry,
    helms: dict[str, Any],
    signed_charts: dict[str, Any],
    helm_repo: tuple[Path, str],
    ns: str,
    tmp_path: Path,
) -> None:
    root, url = helm_repo
    _publish(
        root,
        "rich",
        "1.2.3+build.4",
        signed_charts["rich"].read_bytes(),
        prov=signed_charts["rich"].with_name("rich-1.2.3+build.4.tgz.prov").read_bytes(),
    )
    _publish(root, "plain", "0.3.0", signed_charts["plain"].read_bytes())
    classics = [_classic(url, "rich", "1.2.3+build.4"), _classic(url, "plain", "0.3.0")]
    manifest = write_manifest(tmp_path / "m.yaml", classics)
    mirrored = run_cli("mirror", "--manifest", str(manifest), "--target", f"{open_registry.host}/{ns}/mirror")
    assert mirrored.returncode == 0, mirrored.stderr
    bundle = tmp_path / "bundle.tar"
    assert run_cli("save", "--manifest", str(manifest), "--to", str(bundle)).returncode == 0
    loaded = run_cli("load", "--from", str(bundle), "--target", f"{open_registry.host}/{ns}/loaded")
    assert loaded.returncode == 0, loaded.stderr
    for major, helm in helms.items():
        for where in ("mirror", "loaded"):
            base = f"oci://{open_registry.host}/{ns}/{where}"
            pulled = tmp_path / f"pulled-{major}-{where}"
            pulled.mkdir()
            helm.run(
                "pull",
                f"{base}/rich",
                "--version",
                "1.2.3+build.4",
                "--plain-http",
                "--verify",
                "--keyring",
                str(signed_charts["pubring"]),
                "-d",
                str(pulled),
            )
            assert (pulled / "rich-1.2.3+build.4.tgz").read_bytes() == signed_charts["rich"].read_bytes()
            rendered = helm.run("template", "demo", f"{base}/rich", "--version", "1.2.3+build.4", "--plain-http").stdout
            assert "name: demo-rich" in rendered, f"Helm {major} templates rich from the {where}"
            plain = helm.run("template", "demo", f"{base}/plain", "--version", "0.3.0", "--plain-http").stdout
            assert "name: plain" in plain


def _classic_repo(servers: list[Any], chart_body: bytes) -> ScriptedServer:
    """A classic repository whose one chart's archive is ``chart_body`` (the index gives no digest)."""

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if path.endswith("/index.yaml"):
            index = {"apiVersion": "v1", "entries": {"big": [{"version": "1.0.0", "urls": ["charts/big-1.0.0.tgz"]}]}}
            return Reply(200, {}, yaml.safe_dump(index).encode())
        if path.endswith(".tgz"):
            return Reply(200, {}, chart_body)
        return Reply(404)

    server = ScriptedServer("127.0.0.2", route)
    servers.append(server)
    return server


def _chart_job(repo: str) -> Job:
    artifact = Artifact(type="chart", group="g", name="big", where="m.yaml:1", repo=repo, chart="big", version="1.0.0")
    return Job(artifact, Reference("registry.internal", "p/big", tag="1.0.0"), None, None)


def test_a_chart_archive_is_read_up_to_the_64_mib_the_readme_states_and_refused_one_byte_past(
    servers: list[Any],
) -> None:
    """README Limits: "a Helm `index.yaml` / chart archive | 64 MiB each"."""
    limit = readme_text.size(readme_text.limit("a Helm `index.yaml` / chart archive").removesuffix(" each"))
    assert limit == helm_module.MAX_CHART_BYTES == helm_module.MAX_INDEX_BYTES
    for size, refused in ((limit, False), (limit + 1, True)):
        server = _classic_repo(servers, bytes(size))
        repos = helm_module.HelmRepositories(Fetcher(CredentialStore(env={}), RetryPolicy(attempts=1)))
        try:
            with pytest.raises(RegistryError) as failed:
                repos.payload(_chart_job(f"{server.url}/nvidia"))
        finally:
            repos.close()
        assert (f"the answer is larger than {limit} bytes" in str(failed.value)) is refused, str(failed.value)
