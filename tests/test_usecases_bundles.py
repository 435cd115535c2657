"""provider_helper/usecases/bundles.py: ``save`` and ``load`` as use cases, each branch of their choices: a folder or
a .tar, --archive-size only with a .tar, --dry-run (nothing written, a folder or a .tar alike), a save that could not
finish (no .tar, the staging folder kept and named with its size), against the sandbox's real registries."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import run_cli, sandbox_cli, write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox


def _save(sandbox: Sandbox, manifest: Path, to: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return sandbox_cli(sandbox, "save", manifest, "--to", str(to), *extra)


def _selection(source: Factory, ns: str, tmp_path: Path, *, missing: bool = False) -> Path:
    source.image(f"{ns}/nvidia/app", "1.0", layer_sizes=(20_000,))
    artifacts = [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1.0", "group": "test"}]
    if missing:  # a tag the source does not have: that artifact fails, the other is saved
        artifacts.append({"type": "image", "source": f"nvcr.io/{ns}/nvidia/gone:9.9", "group": "test"})
    return write_manifest(tmp_path / "m.yaml", artifacts)


def test_archive_size_with_a_folder_is_one_line_exit_2_before_anything_is_fetched(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/o/app:1", "group": "test"}])
    done = run_cli("save", "--manifest", str(manifest), "--to", str(tmp_path / "bundle"), "--archive-size", "4GiB")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nvcf-mirror: error: --archive-size splits a .tar bundle: use it with --to FILE.tar"
    ]
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize("to", ["bundle", "bundle.tar"])
def test_save_dry_run_writes_nothing_to_a_folder_or_a_tar(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path, to: str
) -> None:
    """--help: "Resolve and compare with the layout (and --since's bundle); write nothing"."""
    done = _save(sandbox, _selection(source, ns, tmp_path), tmp_path / "out" / to, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_tar_save_that_could_not_finish_writes_no_tar_and_names_what_it_kept(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """README: "A `.tar` save that could not finish (an artifact failed) writes no `.tar`: it says so and what it
    kept (`nvcf-v0.5.tar.partial/` and its size), and the same command run again resumes from there"."""
    archive = tmp_path / "nvcf-v0.5.tar"
    done = _save(sandbox, _selection(source, ns, tmp_path, missing=True), archive)
    assert done.returncode == 1, done.stderr
    assert not archive.exists()
    staging = tmp_path / "nvcf-v0.5.tar.partial"
    assert (staging / "index.json").is_file()
    [line] = [line for line in done.stderr.splitlines() if "is not written" in line]
    found = re.search(r"nvcf-mirror: (.*) is not written; kept (.*)/ \(([\d.]+ (?:B|KiB|MiB))\): (.*)$", line)
    assert found is not None, line
    assert (found[1], found[2]) == (str(archive), str(staging))
    assert found[4] == "run the same save again to resume it (blobs already there are not fetched again)"


def test_a_folder_save_that_could_not_finish_keeps_the_folder_and_says_so(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    done = _save(sandbox, _selection(source, ns, tmp_path, missing=True), bundle)
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "run the same save again" in line]
    assert f"kept {bundle}/ (" in line and "is not written" not in line
    assert (bundle / "nvcf-mirror.lock.json").is_file(), "the lock lists what was saved"


def test_a_tar_save_that_finished_leaves_no_staging_folder(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    archive = tmp_path / "nvcf.tar"
    done = _save(sandbox, _selection(source, ns, tmp_path), archive)
    assert done.returncode == 0, done.stderr
    assert archive.is_file() and not (tmp_path / "nvcf.tar.partial").exists()
