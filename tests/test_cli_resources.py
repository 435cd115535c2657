"""provider_helper/cli/resources.py: ``resources download`` and ``pull``'s choices, each branch: the groups taken
(every resource of the manifest without --group, only the named group's with one), --push without --target, no
resource selected, a resource without a version; each refusal the whole line, exit 2, before anything is fetched."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, tgz, write_manifest

from provider_helper.sandbox.ngcserver import NgcStandIn

BASE = "0833294136851237/nvcf-ncp-staging/nvcf-base:0.1.4"
STACK = "0833294136851237/nvcf-ncp-staging/nvcf-self-managed-stack:0.2.0"


@pytest.fixture
def ngc() -> Iterator[NgcStandIn]:
    server = NgcStandIn(personal_key="nvapi-" + os.urandom(8).hex(), legacy_key="legacy" + os.urandom(8).hex())
    server.resources[BASE] = {"nvcf-base-0.1.4.tar.gz": tgz({"nvcf-base/main.tf": b"# terraform\n"})}
    server.resources[STACK] = {"stack.tar.gz": tgz({"stack/values.yaml": b"a: 1\n"})}
    yield server
    server.close()


def _env(ngc: NgcStandIn) -> dict[str, str]:
    return {"NGC_API_KEY": ngc.personal_key, "NVCF_MIRROR_NGC_API_URL": ngc.url, "NVCF_MIRROR_NGC_AUTHN_URL": ngc.url}


def _manifest(tmp_path: Path) -> Path:
    """Two resources in two groups, neither a default one (as deployment-resources is in the bundled manifest)."""
    return write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "resource", "source": BASE, "group": "deployment-resources"},
            {"type": "resource", "source": STACK, "group": "stack-resources"},
            {"type": "image", "source": "nvcr.io/0833294136851237/nvcf-ncp-staging/app:1.0", "group": "apps"},
        ],
        groups=[
            {"name": "deployment-resources", "default": False},
            {"name": "stack-resources", "default": False},
            {"name": "apps", "default": True},
        ],
    )


def _download(tmp_path: Path, ngc: NgcStandIn, *extra: str) -> tuple[int, str, Path]:
    dest = tmp_path / "ngc"
    done = run_cli(
        "resources", "download", "--manifest", str(_manifest(tmp_path)), "--dest", str(dest), *extra, env=_env(ngc)
    )
    return done.returncode, done.stderr, dest


def test_without_group_every_resource_of_the_manifest_is_downloaded_default_group_or_not(
    ngc: NgcStandIn, tmp_path: Path
) -> None:
    """README: "`resources download` and `pull` take the resources of the selected groups (all of the manifest's
    without `--group`)"."""
    code, stderr, dest = _download(tmp_path, ngc)
    assert code == 0, stderr
    assert sorted(p.name for p in dest.iterdir()) == ["nvcf-base_v0.1.4", "nvcf-self-managed-stack_v0.2.0"]


def test_with_group_only_that_groups_resources_are_downloaded(ngc: NgcStandIn, tmp_path: Path) -> None:
    code, stderr, dest = _download(tmp_path, ngc, "--group", "stack-resources")
    assert code == 0, stderr
    assert sorted(p.name for p in dest.iterdir()) == ["nvcf-self-managed-stack_v0.2.0"]


def test_push_without_target_is_one_line_and_nothing_is_downloaded(ngc: NgcStandIn, tmp_path: Path) -> None:
    code, stderr, dest = _download(tmp_path, ngc, "--push")
    assert code == 2
    assert stderr.strip().splitlines() == ["nvcf-mirror: error: --push needs --target REGISTRY[/PREFIX]"]
    assert not dest.exists() and ngc.storage_requests == []


def test_a_group_without_resources_is_one_line(ngc: NgcStandIn, tmp_path: Path) -> None:
    code, stderr, dest = _download(tmp_path, ngc, "--group", "apps")
    assert code == 2
    assert stderr.strip().splitlines() == [
        "nvcf-mirror: error: no NGC resources selected (they are in the deployment-resources group of the bundled "
        "manifest)"
    ]
    assert not dest.exists()


def test_a_resource_without_a_version_asks_for_set_version(ngc: NgcStandIn, tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {
                "type": "resource",
                "source": "0833294136851237/nvcf-ncp-staging/nvcf-base",
                "group": "deployment-resources",
                "needs_version": True,
            }
        ],
        groups=[{"name": "deployment-resources", "default": False}],
    )
    done = run_cli("resources", "download", "--manifest", str(manifest), "--dest", str(tmp_path / "d"), env=_env(ngc))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nvcf-mirror: error: nvcf-base has no version: pin it with --set-version nvcf-base=VERSION"
    ]


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar"])
def test_extract_unpacks_each_archive_kind_the_help_names_and_leaves_other_files(
    ngc: NgcStandIn, tmp_path: Path, suffix: str
) -> None:
    """--help: "--extract  Unpack each .tar.gz/.tgz/.tar into DEST/<name>/"."""
    data = tgz({"bin/tool": b"#!/bin/sh\n"})
    archive = data if suffix != ".tar" else _plain_tar({"bin/tool": b"#!/bin/sh\n"})
    ngc.resources[BASE] = {f"nvcf-base-0.1.4{suffix}": archive, "NOTES.txt": b"not an archive"}
    code, stderr, dest = _download(tmp_path, ngc, "--group", "deployment-resources", "--extract")
    assert code == 0, stderr
    assert (dest / "nvcf-base" / "bin" / "tool").read_bytes() == b"#!/bin/sh\n"
    assert not (dest / "nvcf-base" / "NOTES.txt").exists(), "a file that is no archive is not unpacked"


def _plain_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
