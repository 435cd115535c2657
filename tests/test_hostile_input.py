"""Hostile archives, layouts, manifests and Helm indexes: nothing escapes its folder, nothing
unbounded is read, nothing secret is printed, and each refusal is one clear line."""

from __future__ import annotations

import fcntl
import io
import json
import os
import secrets
import tarfile
import time
from pathlib import Path
from typing import Literal

import pytest
from helpers import run_cli, sha256, write_manifest
from hostile import Reply, ScriptedServer

from provider_helper.archive_members import ArchiveError, ExtractLimits
from provider_helper.archives import safe_extract
from provider_helper.mirror.bundles import LOCK_FILE
from provider_helper.mirror.saving import WRITER_LOCK
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox
from provider_helper.targets import TargetAccess

CANARY = "CANARY" + secrets.token_hex(8)


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _tar(path: Path, entries: list[tuple[str, str, object]], mode: Literal["w", "w:gz"] = "w") -> Path:
    """Entries: (name, kind, payload): kind file (bytes or a size of zeros), dir, sym/lnk (link target), fifo."""
    with tarfile.open(path, mode) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload if isinstance(payload, bytes) else None
                info.size = len(data) if data is not None else int(payload)  # type: ignore[call-overload]
                tar.addfile(info, io.BytesIO(data) if data is not None else io.BufferedReader(_Zeros(info.size)))  # type: ignore[type-var]
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "sym": tarfile.SYMTYPE,
                "lnk": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[kind]
            info.linkname = str(payload or "")
            tar.addfile(info)
    return path


def _cve_2025_4517(path: Path, outside: Path) -> Path:
    """The overlong-path symlink chain that walks past ``filter='data'`` on Python < 3.11.13: realpath
    stops resolving once the path exceeds PATH_MAX, so the final link looks like it stays inside."""
    component = "d" * 247
    steps = "abcdefghijklmnop"
    entries: list[tuple[str, str, object]] = []
    here = ""
    for step in steps:
        entries.append((os.path.join(here, component), "dir", None))
        entries.append((os.path.join(here, step), "sym", component))
        here = os.path.join(here, component)
    long_link = os.path.join(*steps, "l" * 254)
    entries.append((long_link, "sym", "../" * len(steps)))
    entries.append(("escape", "sym", f"{long_link}/{'../' * 30}{str(outside).lstrip('/')}"))
    entries.append(("escape/written-outside", "file", b"pwned"))
    return _tar(path, entries)


def _refused_before_writing(archive: Path, dest: Path, match: str) -> None:
    with pytest.raises(ArchiveError, match=match):
        safe_extract(archive, dest)
    assert not dest.exists() or not any(dest.iterdir()), "something was written before the refusal"


def test_the_overlong_symlink_chain_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _refused_before_writing(_cve_2025_4517(tmp_path / "x.tar", outside), tmp_path / "dest", "under a symbolic link")
    assert list(outside.iterdir()) == []


def test_load_of_the_overlong_symlink_chain_writes_nothing_outside(sandbox: Sandbox, tmp_path: Path, ns: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _cve_2025_4517(tmp_path / "layout.tar", outside)
    done = run_cli("load", "--from", str(archive), "--target", f"{sandbox.target.host}/{ns}", env=sandbox.env())
    assert done.returncode == 2, done.stderr
    assert "refusing the layout archive" in done.stderr and "internal error" not in done.stderr
    assert list(outside.iterdir()) == []


def test_a_symlink_chain_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "chain.tar", [("first", "file", b"1"), ("a", "sym", "."), ("a/b", "sym", "../x")])
    _refused_before_writing(archive, tmp_path / "dest", "under a symbolic link")


def test_a_link_through_another_link_is_refused(tmp_path: Path) -> None:
    """``s -> .`` then ``t -> s/x/../..``: textually inside, on disk the parent of the folder."""
    archive = _tar(tmp_path / "through.tar", [("s", "sym", "."), ("t", "sym", "s/x/../..")])
    _refused_before_writing(archive, tmp_path / "dest", "passes through another link")


@pytest.mark.parametrize("kind", ["fifo"])
def test_special_files_are_refused(tmp_path: Path, kind: str) -> None:
    _refused_before_writing(
        _tar(tmp_path / "special.tar", [("ok", "file", b"1"), ("pipe", kind, None)]), tmp_path / "dest", "device, FIFO"
    )


def test_a_compression_bomb_is_refused_and_the_limit_can_be_raised(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "bomb.tar.gz", [("zeros", "file", 256 * 1024 * 1024)], mode="w:gz")
    assert archive.stat().st_size < 1024 * 1024
    _refused_before_writing(archive, tmp_path / "dest", "raise with --max-extract-ratio")
    small = _tar(tmp_path / "small.tar.gz", [("zeros", "file", 4 * 1024 * 1024)], mode="w:gz")
    _refused_before_writing(small, tmp_path / "dest2", "--max-extract-ratio")
    assert safe_extract(small, tmp_path / "dest3", ExtractLimits(max_ratio=100_000)) == [
        (tmp_path / "dest3" / "zeros").resolve()
    ]


def test_hard_links_count_what_they_unpack_to(tmp_path: Path) -> None:
    """Each hard link is written as a copy: nine names for one 1 MiB file unpack to 9 MiB."""
    entries: list[tuple[str, str, object]] = [("big", "file", 1024 * 1024)] + [
        (f"copy{i}", "lnk", "big") for i in range(8)
    ]
    archive = _tar(tmp_path / "links.tar", entries)
    with pytest.raises(ArchiveError, match="more than 4194304 bytes"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_bytes=4 * 1024 * 1024))
    assert not (tmp_path / "dest").exists()
    written = safe_extract(archive, tmp_path / "ok", ExtractLimits(max_bytes=16 * 1024 * 1024))
    assert sum(p.stat().st_size for p in written) == 9 * 1024 * 1024


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "many.tar", [(f"f{i}", "file", b"") for i in range(50)])
    with pytest.raises(ArchiveError, match="more than 10 entries"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_members=10))


def _deep_tar(path: Path, entries: int, depth: int) -> Path:
    """``entries`` files, each under its own chain of ``depth`` folders the archive never lists."""
    with tarfile.open(path, "w") as tar:
        for n in range(entries):
            info = tarfile.TarInfo("/".join([f"d{n}"] + ["x"] * (depth - 1) + ["f"]))
            info.size = 1
            tar.addfile(info, io.BytesIO(b"1"))
    return path


def test_the_folders_entries_imply_count_against_the_entry_limit(tmp_path: Path) -> None:
    """10 entries 50 folders deep make 500 folders: the archive lists 10 entries, the disk gets 510."""
    archive = _deep_tar(tmp_path / "deep.tar", 10, 50)
    with pytest.raises(ArchiveError, match="more than 100 entries, counting the folders they imply"):
        safe_extract(archive, tmp_path / "dest", ExtractLimits(max_members=100))
    assert not (tmp_path / "dest").exists()
    assert len(safe_extract(archive, tmp_path / "ok", ExtractLimits(max_members=510))) == 10


def test_an_entry_nested_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="nests more than 64 folders deep"):
        safe_extract(_deep_tar(tmp_path / "deep.tar", 1, 500), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


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


def test_target_access_repr_hides_the_password() -> None:
    from provider_helper.oci.reference import parse_target

    assert CANARY not in repr(
        TargetAccess(parse_target("registry.example/p"), "generic", username="u", password=CANARY)
    )


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
