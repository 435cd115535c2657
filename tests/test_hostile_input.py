"""Hostile archives, layouts, manifests and Helm indexes: nothing escapes its folder, nothing
unbounded is read, nothing secret is printed, and each refusal is one clear line."""

from __future__ import annotations

import fcntl
import json
import secrets
import time
from pathlib import Path

import pytest
from helpers import cve_2025_4517_archive, run_cli, sha256, write_manifest
from hostile import Reply, ScriptedServer

from provider_helper.mirror.bundles import LOCK_FILE
from provider_helper.mirror.saving import WRITER_LOCK
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

CANARY = "CANARY" + secrets.token_hex(8)


def test_load_of_the_overlong_symlink_chain_writes_nothing_outside(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = cve_2025_4517_archive(tmp_path / "layout.tar", outside)
    done = run_cli("load", "--from", str(archive), "--target", f"{sandbox.target.host}/{ns}", env=sandbox.env())
    assert done.returncode == 2, done.stderr
    assert "refusing the layout archive" in done.stderr and "internal error" not in done.stderr
    assert list(outside.iterdir()) == []


def test_a_corrupt_layout_archive_is_one_clear_line(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"\x00garbage" * 200)
    done = run_cli("load", "--from", str(bad), "--target", f"{sandbox.target.host}/{ns}", env=sandbox.env())
    assert done.returncode == 2 and "internal error" not in done.stderr
    assert done.stderr.count("\n") == 1 and "bad.tar" in done.stderr


# -- layouts -----------------------------------------------------------------------------------


@pytest.fixture
def saved(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> Path:
    source.image(f"{ns}/org/app", "1.0")
    source.image(f"{ns}/org/other", "2.0")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/org/app:1.0", "group": "test"}]
    )
    layout = tmp_path / "layout"
    run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(layout),
        env=sandbox.env(),
        check=True,
    )
    return layout


def _edit_lock(layout: Path, **fields: str) -> None:
    lock = json.loads((layout / LOCK_FILE).read_text())
    lock["artifacts"][0].update(fields)
    (layout / LOCK_FILE).write_text(json.dumps(lock))


def test_a_lock_entry_naming_another_repository_is_refused(sandbox: Sandbox, saved: Path, ns: str) -> None:
    _edit_lock(saved, name="../victim/app")
    done = run_cli("load", "--from", str(saved), "--target", f"{sandbox.target.host}/{ns}", env=sandbox.env())
    assert done.returncode == 2, done.stderr
    assert "'../victim/app' is not a repository path" in done.stderr
    catalog = (
        sandbox.target_factory()
        .http.get("/v2/_catalog", headers={"Authorization": sandbox.target_factory().authorize("")})
        .json()
    )
    assert not [r for r in catalog.get("repositories", []) if r.startswith("victim")]


def test_a_lock_digest_that_is_a_path_is_refused_at_once(sandbox: Sandbox, saved: Path, ns: str) -> None:
    _edit_lock(saved, digest="sha256:../../../../../../dev/zero")
    started = time.monotonic()
    done = run_cli("load", "--from", str(saved), "--target", f"{sandbox.target.host}/{ns}", env=sandbox.env())
    assert done.returncode == 2, done.stderr
    assert "is not a valid digest" in done.stderr
    assert time.monotonic() - started < 30


def test_a_source_layer_digest_with_a_path_fails_the_save(sandbox: Sandbox, tmp_path: Path) -> None:
    """A hostile source names a layer ``sha256:../../index.json``: it is not 'already present', it is refused."""
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()

    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:../../index.json", "size": 10}
            ],
        }
    ).encode()

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "/manifests/" in path:
            return Reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body)
        if "/blobs/" in path:
            return Reply(200, {}, config)
        return Reply(200)

    registry = ScriptedServer("127.0.0.2", route)
    try:
        manifest = write_manifest(
            tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
        )
        layout = tmp_path / "layout"
        done = run_cli("save", "--manifest", str(manifest), "--source-registry", registry.host, "--to", str(layout))
    finally:
        registry.close()
    assert done.returncode == 1, done.stderr
    assert "invalid digest" in done.stderr
    assert json.loads((layout / LOCK_FILE).read_text())["artifacts"] == []


def test_a_second_save_into_a_busy_layout_fails_clearly(sandbox: Sandbox, saved: Path, tmp_path: Path) -> None:
    with open(saved / WRITER_LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        manifest = write_manifest(tmp_path / "m2.yaml", [{"type": "image", "source": "nvcr.io/x/y:1", "group": "test"}])
        done = run_cli(
            "save",
            "--manifest",
            str(manifest),
            "--to",
            str(saved),
            "--source-registry",
            sandbox.source.host,
            env=sandbox.env(),
        )
    assert done.returncode == 2
    assert "another 'nvcf-mirror save' is writing to this layout" in done.stderr


def test_sequential_saves_merge_and_clean_leftovers(sandbox: Sandbox, saved: Path, tmp_path: Path, ns: str) -> None:
    leftover = saved / ".upload-0123456789abcdef"
    leftover.write_bytes(b"half a blob from a killed run")
    manifest = write_manifest(
        tmp_path / "m2.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/org/other:2.0", "group": "test"}]
    )
    run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(saved),
        env=sandbox.env(),
        check=True,
    )
    assert not leftover.exists()
    listed = sorted(e["key"] for e in json.loads((saved / LOCK_FILE).read_text())["artifacts"])
    assert listed == ["image:app:1.0", "image:other:2.0"]
    done = run_cli(
        "load", "--from", str(saved), "--target", f"{sandbox.target.host}/{ns}-loaded", env=sandbox.env(), check=True
    )
    assert done.returncode == 0


# -- manifests, Helm indexes, secrets ----------------------------------------------------------


def _bomb(levels: int) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_a_local_manifest_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text("apiVersion: nvcf-mirror/v1\n" + _bomb(9) + "groups: *i\nartifacts: []\n")
    started = time.monotonic()
    done = run_cli("manifest", "validate", str(manifest), timeout=60, process=True)  # unbounded, it would run for hours
    assert done.returncode == 2 and "aliases expand the document" in done.stderr
    assert time.monotonic() - started < 20


def test_a_remote_helm_index_alias_bomb_is_refused(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    index = ("apiVersion: v1\n" + _bomb(9) + "entries:\n  app:\n  - version: '1.0.0'\n    urls: *i\n").encode()
    repo = ScriptedServer("127.0.0.2", lambda *_: Reply(200, {}, index))
    try:
        manifest = write_manifest(
            tmp_path / "m.yaml",
            [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}],
        )
        started = time.monotonic()
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--result-file",
            str(tmp_path / "r.json"),
            env=sandbox.env(),
            timeout=60,
        )
    finally:
        repo.close()
    assert done.returncode == 1
    assert "aliases expand the document" in json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert time.monotonic() - started < 30


def test_a_huge_helm_index_is_refused_while_it_streams(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    repo = ScriptedServer("127.0.0.2", lambda *_: Reply(200, {}, b"#" * (1024 * 1024), repeat=128))
    try:
        manifest = write_manifest(
            tmp_path / "m.yaml",
            [{"type": "chart", "repo": repo.url, "chart": "app", "version": "1.0.0", "group": "test"}],
        )
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--retries",
            "1",
            "--result-file",
            str(tmp_path / "r.json"),
            env=sandbox.env(),
        )
    finally:
        repo.close()
    assert done.returncode == 1
    assert "larger than 67108864 bytes" in json.loads((tmp_path / "r.json").read_text())["artifacts"][0]["error"]
    assert repo.unfinished >= 1


@pytest.mark.parametrize("version", ["1.0.0+build/../../../../other", "1.0.0+a b"])
def test_chart_versions_with_plus_are_validated(tmp_path: Path, version: str) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "chart", "repo": "https://charts.example", "chart": "app", "version": version, "group": "test"}],
    )
    done = run_cli("manifest", "validate", str(manifest))
    assert done.returncode == 2 and "is not a valid version" in done.stderr


def test_a_helm_repository_password_is_never_printed(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    repo = ScriptedServer("127.0.0.2", lambda *_: Reply(500, {}, b"broken"))
    try:
        url = f"http://user:{CANARY}@{repo.host}/charts"
        manifest = write_manifest(
            tmp_path / "m.yaml", [{"type": "chart", "repo": url, "chart": "app", "version": "1.0.0", "group": "test"}]
        )
        plan = run_cli(
            "plan",
            "--manifest",
            str(manifest),
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--offline",
            "--output",
            "json",
        )
        result = tmp_path / "r.json"
        done = run_cli(
            "mirror",
            "--manifest",
            str(manifest),
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--retries",
            "1",
            "--result-file",
            str(result),
            env=sandbox.env(),
        )
        verbose = run_cli(
            "-v",
            "mirror",
            "--manifest",
            str(manifest),
            "--target",
            f"{sandbox.target.host}/{ns}",
            "--retries",
            "1",
            env=sandbox.env(),
        )
    finally:
        repo.close()
    assert repo.seen, "the repository was never asked: the test proves nothing"
    assert plan.returncode == 0 and done.returncode == 1 and verbose.returncode == 1
    for text in (
        plan.stdout,
        plan.stderr,
        done.stdout,
        done.stderr,
        result.read_text(),
        verbose.stdout,
        verbose.stderr,
    ):
        assert CANARY not in text
    assert "user:" not in json.loads(plan.stdout)["artifacts"][0]["source"]


def test_an_ngc_key_with_a_line_break_is_refused_without_showing_it(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    key = f"nvapi-{CANARY}\n{CANARY[::-1]}"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env={**sandbox.env(), "NGC_API_KEY": key},
    )
    assert done.returncode == 2
    assert "NGC_API_KEY holds spaces, line breaks or control characters" in done.stderr
    assert CANARY not in done.stderr and CANARY[::-1] not in done.stderr


def test_an_early_failure_leaves_no_stale_result_file(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    result = tmp_path / "r.json"
    result.write_text(json.dumps({"version": 1, "summary": {"copied": 40, "failed": 0}}))
    done = run_cli(
        "mirror",
        "--manifest",
        str(tmp_path / "missing.yaml"),
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--result-file",
        str(result),
    )
    assert done.returncode == 2
    assert not result.exists()


def test_a_bundle_whose_index_is_not_an_image_index_is_one_clear_line(tmp_path: Path) -> None:
    """index.json comes with the bundle: manifests that are not a list of objects are refused before any request."""
    (tmp_path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": "nope"}))
    (tmp_path / "nvcf-mirror.lock.json").write_text(json.dumps({"version": 2, "artifacts": []}))
    done = run_cli("load", "--from", str(tmp_path), "--target", "127.0.0.1:1/x")
    assert done.returncode == 2 and "index.json: not an OCI image index" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
