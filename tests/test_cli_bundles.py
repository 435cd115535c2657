"""provider_helper/cli/bundles.py: the flags of ``save`` and ``load`` and the values they hand the use cases, run
without setting them (README Performance: "`--blob-jobs` (16)", "`--jobs` (8)"), and --help's defaults and words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import readme_text
from helpers import run_cli, write_manifest

from provider_helper.usecases import bundles as bundles_usecase


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the CLI hands ``usecases.bundles.save``; nothing is fetched."""
    seen: dict[str, Any] = {}

    def save(
        config: object,
        path: Path,
        since: Path | None,
        archive_size: str | None,
        jobs: int,
        blob_jobs: int,
        *,
        dry_run: bool,
    ) -> tuple[list[Any], float]:
        seen.update(path=path, since=since, archive_size=archive_size, jobs=jobs, blob_jobs=blob_jobs, dry_run=dry_run)
        return [], 0.0

    monkeypatch.setattr(bundles_usecase, "save", save)
    return seen


def _manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "m.yaml", [{"type": "image", "source": "nvcr.io/o/app:1.0", "group": "test"}])


def _readme_figure(flag: str) -> int:
    return int(readme_text.said(rf"`{re.escape(flag)}` \((\d+)\)")[1])


def test_save_without_jobs_flags_takes_the_readme_defaults(saved: dict[str, Any], tmp_path: Path) -> None:
    done = run_cli("save", "--manifest", str(_manifest(tmp_path)), "--to", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    assert (saved["jobs"], saved["blob_jobs"]) == (_readme_figure("--jobs"), _readme_figure("--blob-jobs")) == (8, 16)
    assert (saved["since"], saved["archive_size"], saved["dry_run"]) == (None, None, False)


def test_save_hands_on_what_it_is_given(saved: dict[str, Any], tmp_path: Path) -> None:
    args = ["--to", str(tmp_path / "b.tar"), "--since", str(tmp_path / "a.tar"), "--archive-size", "4GiB"]
    done = run_cli(
        "save", "--manifest", str(_manifest(tmp_path)), *args, "--jobs", "3", "--blob-jobs", "5", "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    assert saved == {
        "path": tmp_path / "b.tar",
        "since": tmp_path / "a.tar",
        "archive_size": "4GiB",
        "jobs": 3,
        "blob_jobs": 5,
        "dry_run": True,
    }


@pytest.mark.parametrize(
    ("flag", "value"), [("--jobs", "0"), ("--jobs", "65"), ("--blob-jobs", "0"), ("--blob-jobs", "65")]
)
def test_save_jobs_outside_1_to_64_are_refused(saved: dict[str, Any], tmp_path: Path, flag: str, value: str) -> None:
    done = run_cli("save", "--manifest", str(_manifest(tmp_path)), "--to", str(tmp_path / "b"), flag, value)
    assert done.returncode == 2 and saved == {}
    assert f"Invalid value for '{flag}'" in done.stderr


def test_save_help_shows_the_defaults_and_what_each_flag_takes() -> None:
    shown = " ".join(run_cli("save", "--help").stdout.split())
    assert "Artifacts fetched at once. [default: 8; 1<=x<=64]" in shown
    assert "Blob downloads at once. [default: 16; 1<=x<=64]" in shown
    assert "Directory to write the OCI layout to, or a file ending in .tar." in shown
    assert "An earlier bundle (layout directory, .tar, or its lock file alone): write only what it does not hold." in (
        shown
    )


def test_load_help_names_every_form_of_a_bundle() -> None:
    shown = " ".join(run_cli("load", "--help").stdout.split())
    assert (
        "A layout written by 'nvcf-mirror save': a directory, a .tar, or a split .tar (its name or its .000 part)."
        in shown
    )


def test_load_compares_what_is_attached_by_digest_warm_or_not(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def load(
        config: object, from_path: Path, limits: object, options: Any, **kwargs: Any
    ) -> tuple[list[Any], list[Any], float]:
        seen.update(from_path=from_path, options=options, **kwargs)
        return [], [], 0.0

    monkeypatch.setattr(bundles_usecase, "load", load)
    done = run_cli("load", "--from", str(tmp_path / "b.tar"), "--target", "registry.internal/nvcf")
    assert done.returncode == 0, done.stderr
    assert seen["from_path"] == tmp_path / "b.tar"
    assert seen["options"].recheck_signatures is True
    assert (seen["options"].jobs, seen["options"].blob_jobs) == (8, 16)
    assert (seen["dry_run"], seen["create_repos"]) == (False, False)
    # README: load "takes `--target-type ecr --create-repos` like `mirror`"
    args = ["--from", str(tmp_path / "b"), "--target", "registry.internal/nvcf", "--dry-run", "--create-repos"]
    done = run_cli("load", *args, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert (seen["from_path"], seen["dry_run"], seen["create_repos"], seen["options"].jobs) == (
        tmp_path / "b",
        True,
        True,
        2,
    )
