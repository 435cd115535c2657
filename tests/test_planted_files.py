"""Files another local user could have put where a bundle is written or read (issue 36: /tmp, a
transfer share, NFS, removable media): a staging folder from a "killed save", links under the names
a save writes, oversized JSON, a FIFO where a blob should be. The tests run as root, so "another
user" is a folder or file chowned to nobody (65534)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, write_manifest
from hostile import Reply, ScriptedServer

NOBODY = 65534
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
LAYER = b"the real layer" * 64
PLANTED = b"a planted image's layer" * 64


def _image(layer: bytes) -> tuple[bytes, dict[str, bytes]]:
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(layer), "size": len(layer)}
            ],
        }
    ).encode()
    return body, {sha256(CONFIG): CONFIG, sha256(layer): layer, sha256(body): body}


def good_source() -> ScriptedServer:
    """A registry serving org/app:1.0, one small layer, every digest right."""
    body, blobs = _image(LAYER)

    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if "/manifests/" in path:
            return Reply(
                200,
                {"Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": sha256(body)},
                body,
            )
        if path.endswith("/tags/list") or "/tags/list?" in path:
            return Reply(
                200, {"Content-Type": "application/json"}, json.dumps({"name": "org/app", "tags": ["1.0"]}).encode()
            )
        if "/referrers/" in path:
            return Reply(404)
        if "/blobs/" in path:
            digest = path.rsplit("/", 1)[-1]
            return Reply(200, {}, blobs[digest]) if digest in blobs else Reply(404)
        return Reply(200)

    return ScriptedServer("127.0.0.2", route)


def lax_target() -> ScriptedServer:
    def route(me: ScriptedServer, method: str, path: str, headers: dict[str, str]) -> Reply:
        if method == "POST" and "/blobs/uploads/" in path:
            return Reply(202, {"Location": "/upload/1"})
        if method == "PUT":
            return Reply(201)
        return Reply(200) if path == "/v2/" else Reply(404)

    return ScriptedServer("127.0.0.3", route)


def _save(source: ScriptedServer, tmp_path: Path, to: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    return run_cli(
        "save", "--manifest", str(manifest), "--source-registry", source.host, "--to", str(to), "--retries", "1", *extra
    )


def _plant_layout(root: Path) -> str:
    """A complete layout of a planted image as ``nvcf-api:2.0``, its lock listing it: what an attacker
    who can write to the output's folder would leave as a "killed save"."""
    body, blobs = _image(PLANTED)
    (root / "blobs" / "sha256").mkdir(parents=True)
    for digest, data in blobs.items():
        (root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": sha256(body),
                        "size": len(body),
                        "annotations": {"org.opencontainers.image.ref.name": "nvcf-api:2.0"},
                    }
                ],
            }
        )
    )
    entry = {"type": "image", "source": "nvcr.io/nvidia/nvcf-api:2.0", "group": "test"}
    (root / "nvcf-mirror.lock.json").write_text(
        json.dumps(
            {
                "version": 2,
                "base": None,
                "artifacts": [
                    {
                        "key": "image:nvcf-api:2.0",
                        "name": "nvcf-api",
                        "tag": "2.0",
                        "source": "nvcr.io/nvidia/nvcf-api:2.0",
                        "digest": sha256(body),
                        "platforms": [],
                        "group": "test",
                        "entry": entry,
                        "attached": [],
                        "manifests": {sha256(body): None},
                    }
                ],
            }
        )
    )
    return sha256(PLANTED)


@pytest.mark.parametrize("planted_as", ["another user's", "anyone's to write", "without the marker"])
def test_save_refuses_a_staging_folder_it_cannot_prove_its_own_and_packs_nothing_of_it(
    servers: list[Any], tmp_path: Path, planted_as: str
) -> None:
    source = good_source()
    servers.append(source)
    archive = tmp_path / "share" / "x.tar"
    staging = archive.with_name("x.tar.partial")
    _plant_layout(staging)
    if planted_as == "another user's":
        for path in [staging, *staging.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        staging.chmod(0o700)
    elif planted_as == "anyone's to write":
        staging.chmod(0o777)
        (staging / ".nvcf-mirror.staging").write_text("planted")
    else:
        staging.chmod(0o700)
    done = _save(source, tmp_path, archive)
    assert done.returncode == 2, done.stderr
    assert f"{staging}: already exists and is not a staging folder an earlier save of this user made" in done.stderr
    assert "Traceback" not in done.stderr and not archive.exists(), "nothing was packed"


def test_a_resumed_staging_folder_of_this_user_keeps_only_what_checks_out(servers: list[Any], tmp_path: Path) -> None:
    """Even a folder provably this user's is checked: a blob that does not match its name and a lock
    entry whose manifest is not there are dropped, and the bundle holds the selection alone."""
    source = good_source()
    servers.append(source)
    archive = tmp_path / "x.tar"
    staging = archive.with_name("x.tar.partial")
    planted = _plant_layout(staging)
    staging.chmod(0o700)
    (staging / ".nvcf-mirror.staging").write_text("written by the save that was killed")
    (staging / "blobs" / "sha256" / planted.split(":")[1]).write_bytes(b"not what its name says")
    manifest_blob = next(p for p in (staging / "blobs" / "sha256").iterdir() if b"schemaVersion" in p.read_bytes())
    manifest_blob.unlink()  # the planted entry's manifest is gone: its lock and index entries go too
    done = _save(source, tmp_path, archive)
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        lock = json.loads(tar.extractfile("nvcf-mirror.lock.json").read())  # type: ignore[union-attr]
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    assert f"blobs/sha256/{planted.split(':')[1]}" not in names
    assert [a["key"] for a in lock["artifacts"]] == ["image:app:1.0"]
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == ["app:1.0"]


def test_a_new_staging_folder_is_private_with_its_marker(servers: list[Any], tmp_path: Path) -> None:
    from provider_helper.mirror.saving import staging_for

    staging = staging_for(tmp_path / "x.tar")
    assert stat.S_IMODE(staging.stat().st_mode) == 0o700 and (staging / ".nvcf-mirror.staging").is_file()
    assert stat.S_IMODE((staging / ".nvcf-mirror.staging").stat().st_mode) == 0o600
    assert staging_for(tmp_path / "x.tar") == staging, "this user's own staging folder is resumed"


@pytest.mark.parametrize("split", [False, True])
def test_links_planted_under_the_names_a_save_writes_are_never_followed(
    servers: list[Any], tmp_path: Path, split: bool
) -> None:
    source = good_source()
    servers.append(source)
    archive = tmp_path / "x.tar"
    victims = {}
    for name in ("x.tar.tmp", "x.tar.000.tmp", "x.tar.sha256.tmp", "x.tar.partial.tmp"):
        victim = tmp_path / f"victim-{name}"
        victim.write_text("the victim's own file")
        (tmp_path / name).symlink_to(victim)
        victims[name] = victim
    done = _save(source, tmp_path, archive, *(["--archive-size", "1MiB"] if split else []))
    assert done.returncode == 0, done.stderr
    assert all(v.read_text() == "the victim's own file" for v in victims.values()), (
        "no planted link was written through"
    )
    assert (tmp_path / ("x.tar.000" if split else "x.tar")).is_file()
    outputs = [tmp_path / "x.tar.000", tmp_path / "x.tar.sha256"] if split else [archive]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in outputs)


def test_a_link_planted_as_a_layout_directorys_oci_layout_file_is_replaced_not_written_through(
    servers: list[Any], tmp_path: Path
) -> None:
    source = good_source()
    servers.append(source)
    victim = tmp_path / "victim"
    victim.write_text("the victim's own file")
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "oci-layout").symlink_to(victim)
    (layout / "index.json").symlink_to(victim)
    done = _save(source, tmp_path, layout)
    assert done.returncode == 2 and "index.json: not a regular file" in done.stderr, done.stderr
    (layout / "index.json").unlink()
    done = _save(source, tmp_path, layout)
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "the victim's own file" and not (layout / "oci-layout").is_symlink()


def _saved_layout(servers: list[Any], tmp_path: Path) -> Path:
    source = good_source()
    servers.append(source)
    layout = tmp_path / "layout"
    assert _save(source, tmp_path, layout).returncode == 0
    return layout


@pytest.mark.parametrize(
    ("name", "size"), [("index.json", 4 * 1024 * 1024 + 1), ("nvcf-mirror.lock.json", 16 * 1024 * 1024 + 1)]
)
def test_a_bundles_index_or_lock_past_its_byte_bound_is_refused_unread(
    servers: list[Any], tmp_path: Path, name: str, size: int
) -> None:
    layout = _saved_layout(servers, tmp_path)
    doc = json.loads((layout / name).read_text())
    text = json.dumps(doc)
    (layout / name).write_text(text[:-1] + ", " + json.dumps({"padding": "x" * (size - len(text))})[1:])
    for command in ("load", "verify"):
        done = run_cli(command, "--from", str(layout), "--target", "127.0.0.9:1/p")
        assert done.returncode == 2, done.stderr
        assert f"{layout / name}: a bundle's JSON file larger than" in done.stderr and "Traceback" not in done.stderr


def test_a_split_bundles_checksum_list_past_its_bound_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "x.tar.000").write_bytes(b"\0" * 1024)
    (tmp_path / "x.tar.sha256").write_bytes(b"0" * (1024 * 1024 + 1))
    done = run_cli("load", "--from", str(tmp_path / "x.tar"), "--target", "127.0.0.9:1/p")
    assert done.returncode == 2 and "x.tar.sha256: the checksum list of a split bundle is larger than" in done.stderr, (
        done.stderr
    )


def test_a_fifo_where_a_layout_blob_should_be_is_refused_and_never_blocks_load(
    servers: list[Any], tmp_path: Path
) -> None:
    layout = _saved_layout(servers, tmp_path)
    blob = layout / "blobs" / "sha256" / sha256(LAYER).split(":")[1]
    blob.unlink()
    os.mkfifo(blob)
    target = lax_target()
    servers.append(target)
    answer: list[object] = []
    worker = threading.Thread(
        target=lambda: answer.append(
            run_cli("load", "--from", str(layout), "--target", f"{target.host}/p", "--retries", "1")
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    if worker.is_alive():  # unblock the open this test is about, so the worker ends
        open(blob, "wb").close()
    assert answer, "load blocked on the FIFO"
    done = answer[0]
    assert done.returncode in (1, 2) and "not a regular file" in done.stderr + done.stdout, done.stderr  # type: ignore[attr-defined]
    assert [s for s in target.seen if "/manifests/" in s.path and s.method == "PUT"] == [], "nothing was tagged"


def test_a_tar_bundle_is_read_once_so_a_medium_cannot_answer_differently_the_second_time(
    servers: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A medium (NFS, a FUSE share) may answer a second read with other bytes than the first: checked
    on one read and extracted from another, the checks would hold for bytes that are not written. Every
    way the bundle could be opened is counted."""
    import builtins

    from provider_helper.mirror.layout import LayoutSource

    layout = _saved_layout(servers, tmp_path)
    bundle = tmp_path / "x.tar"
    with tarfile.open(bundle, "w") as tar:
        for path in sorted(layout.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                tar.add(path, arcname=str(path.relative_to(layout)))
    opened: list[str] = []
    real_os_open, real_open, real_tar_open = os.open, builtins.open, tarfile.bltn_open  # type: ignore[attr-defined]

    def counted(real: Any) -> Any:
        def opening(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, Path)) and Path(file) == bundle:
                opened.append(str(file))
            return real(file, *args, **kwargs)

        return opening

    monkeypatch.setattr(os, "open", counted(real_os_open))
    monkeypatch.setattr(builtins, "open", counted(real_open))
    monkeypatch.setattr(tarfile, "bltn_open", counted(real_tar_open))
    source = LayoutSource(bundle)
    try:
        assert [e["key"] for e in source.lock["artifacts"]] == ["image:app:1.0"]
    finally:
        source.close()
    assert len(opened) == 1, f"the bundle was opened {len(opened)} times"


def test_a_split_bundle_part_that_differs_from_its_checksum_is_refused_in_the_one_read(
    servers: list[Any], tmp_path: Path
) -> None:
    source = good_source()
    servers.append(source)
    archive = tmp_path / "x.tar"
    assert _save(source, tmp_path, archive, "--archive-size", "1MiB").returncode == 0
    part = tmp_path / "x.tar.000"
    data = bytearray(part.read_bytes())
    data[600] ^= 1
    part.write_bytes(bytes(data))
    done = run_cli("load", "--from", str(archive), "--target", "127.0.0.9:1/p")
    assert (
        done.returncode == 2
        and f"{part}: corrupt: part 1 of the split bundle x.tar does not match its checksum" in done.stderr
    ), done.stderr


def test_a_lock_entry_whose_key_is_not_its_entrys_is_one_clear_line(servers: list[Any], tmp_path: Path) -> None:
    layout = _saved_layout(servers, tmp_path)
    lock = json.loads((layout / "nvcf-mirror.lock.json").read_text())
    lock["artifacts"][0]["key"] = "image:other:9.9"
    (layout / "nvcf-mirror.lock.json").write_text(json.dumps(lock))
    done = run_cli("load", "--from", str(layout), "--target", "127.0.0.9:1/p")
    assert done.returncode == 2, done.stderr
    assert (
        "the entry keyed 'image:other:9.9' describes 'image:app:1.0'" in done.stderr and "Traceback" not in done.stderr
    )


def test_an_unexpected_error_in_the_terraform_adapter_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from provider_helper import terraform

    secret = "nvapi-" + os.urandom(8).hex()

    def broken(text: str) -> dict[str, Any]:
        raise RuntimeError(f"unexpected, with https://robot:{secret}@registry.example/v2/ in it")

    monkeypatch.setattr(terraform, "read_query", broken)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("{}"))
    assert terraform.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nvcf-mirror: internal error: RuntimeError: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and secret not in err


@pytest.mark.parametrize(
    "planted_as", ["a folder anyone may write to", "another user's folder", "another user's index.json"]
)
def test_save_into_a_layout_directory_another_user_could_have_written_is_refused(
    servers: list[Any], tmp_path: Path, planted_as: str
) -> None:
    """``--to DIR`` adds to what DIR holds: a complete image with valid digests planted there would be
    kept and loaded, so DIR must be a folder only this user can write to."""
    source = good_source()
    servers.append(source)
    layout = tmp_path / "shared"
    _plant_layout(layout)
    if planted_as == "a folder anyone may write to":
        layout.chmod(0o777)
    elif planted_as == "another user's folder":
        os.chown(layout, NOBODY, NOBODY)
    else:
        os.chown(layout / "index.json", NOBODY, NOBODY)
    done = _save(source, tmp_path, layout)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "refusing to save into it" in done.stderr or "refusing to resume a save" in done.stderr, done.stderr
    assert json.loads((layout / "nvcf-mirror.lock.json").read_text())["artifacts"][0]["key"] == "image:nvcf-api:2.0", (
        "nothing was added"
    )


def test_a_blob_of_another_user_in_a_resumed_layout_is_not_kept(servers: list[Any], tmp_path: Path) -> None:
    layout = _saved_layout(servers, tmp_path)
    blob = layout / "blobs" / "sha256" / sha256(LAYER).split(":")[1]
    os.chown(blob, NOBODY, NOBODY)
    source = good_source()
    servers.append(source)
    done = _save(source, tmp_path, layout)
    assert done.returncode == 0, done.stderr
    assert blob.exists() and blob.stat().st_uid == os.getuid(), done.stderr
