"""The cache (provider_helper/cachedir.py) names every target registry and each prefix's repository
paths: its folder is 0700 and its files 0600, made so or tightened (issue 36)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from helpers import run_cli, write_manifest

from provider_helper.cachedir import private_cache_file
from provider_helper.mirror.locations import BlobLocations


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("existing", [False, True])
def test_the_cache_folder_is_0700_and_its_files_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    cache = tmp_path / "cache"
    if existing:  # a cache an earlier version wrote with the umask's 0755 and 0644
        cache.mkdir(mode=0o755)
        (cache / "blob-locations.sqlite").touch(mode=0o644)
        os.chmod(cache, 0o755)
        os.chmod(cache / "blob-locations.sqlite", 0o644)
    monkeypatch.setenv("NVCF_MIRROR_CACHE_DIR", str(cache))
    locations = BlobLocations("registry.example")
    locations.remember("sha256:" + "a" * 64, "prefix/app")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/org/app:1.0", "group": "test"}]
    )
    assert run_cli("plan", "--manifest", str(manifest), "--target", "127.0.0.9:1/p", "--offline").returncode == 0
    assert _mode(cache) == 0o700
    files = [p for p in cache.rglob("*") if p.is_file()]
    folders = [p for p in cache.rglob("*") if p.is_dir()]
    assert any(p.name == "blob-locations.sqlite" for p in files) and folders, (
        "the test looked at a cache with something in it"
    )
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert {p.name: _mode(p) for p in folders} == {p.name: 0o700 for p in folders}


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").symlink_to(elsewhere)
    monkeypatch.setenv("NVCF_MIRROR_CACHE_DIR", str(tmp_path / "cache"))
    BlobLocations("registry.example").remember("sha256:" + "a" * 64, "prefix/app")
    assert list(elsewhere.iterdir()) == []


def test_a_new_cache_file_is_created_0600_not_made_so_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README Security: "The cache (~/.cache/nvcf-mirror/ ...) is 0700 and its files 0600." A file made 0644 and
    tightened a moment later can be opened by another user in between (an open descriptor outlives the chmod): so
    the mode is the one it is created with. ``os.fchmod`` is made a no-op here only to see that creation mode."""
    monkeypatch.setattr(os, "fchmod", lambda fd, mode: None)
    old = os.umask(0o022)
    try:
        private_cache_file(tmp_path / "new.sqlite")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.sqlite") == 0o600


def test_the_cache_folder_defaults_to_xdg_cache_home_then_home_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README env: "`NVCF_MIRROR_CACHE_DIR` | where blob locations and schema checks are remembered (default
    `$XDG_CACHE_HOME/nvcf-mirror`, set or not)"."""
    from provider_helper.cachedir import cache_dir

    monkeypatch.delenv("NVCF_MIRROR_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "nvcf-mirror"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "nvcf-mirror"
    monkeypatch.setenv("NVCF_MIRROR_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit", "NVCF_MIRROR_CACHE_DIR wins over XDG_CACHE_HOME"
