"""Air-gapped upgrades: differential bundles (save --since BASE) carry only what changed, and load
refuses one whose base the target does not hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.aws import ECR_USER
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

LAYER = 400_000  # each image's own layer; every image also has the shared base layer below


@pytest.fixture
def upgrade(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> dict[str, Any]:
    """v1 of a selection saved into a bundle and loaded at {ns}-site; then two images get new content
    under their tags, the chart a new version, and a new image joins (v2), all on the shared base layer."""
    base_data = os.urandom(1_000_000)
    base = {
        name: source.blob(f"{ns}/nvidia/{name}", base_data, "application/vnd.oci.image.layer.v1.tar+gzip")
        for name in ("app-a", "app-b", "app-c", "app-e")
    }
    for name in ("app-a", "app-b", "app-c"):
        source.image(f"{ns}/nvidia/{name}", "1.0", shared=(base[name],), layer_sizes=(LAYER,))
    source.chart(f"{ns}/nvidia/chart-d", "1.0.0")

    def selection(chart_version: str, images: tuple[str, ...]) -> Path:
        return write_manifest(
            tmp_path / f"m-{chart_version}.yaml",
            [
                *({"type": "image", "source": f"nvcr.io/{ns}/nvidia/{name}:1.0", "group": "test"} for name in images),
                {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/chart-d:{chart_version}", "group": "test"},
            ],
        )

    v1, bundle1 = selection("1.0.0", ("app-a", "app-b", "app-c")), tmp_path / "bundle-v1"
    assert _save(sandbox, v1, bundle1).returncode == 0
    assert _load(sandbox, bundle1, f"{ns}-site").returncode == 0
    changed = [
        source.image(f"{ns}/nvidia/{name}", "1.0", shared=(base[name],), layer_sizes=(LAYER,))
        for name in ("app-a", "app-b")
    ]
    changed.append(source.chart(f"{ns}/nvidia/chart-d", "1.0.1"))
    # new in v2: its base layer is at the target only in the other repositories, from which load mounts it
    changed.append(source.image(f"{ns}/nvidia/app-e", "1.0", shared=(base["app-e"],), layer_sizes=(LAYER,)))
    return {
        "v1": v1,
        "v2": selection("1.0.1", ("app-a", "app-b", "app-c", "app-e")),
        "bundle1": bundle1,
        "changed": changed,
    }


def _save(sandbox: Sandbox, manifest: Path, to: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(to),
        *extra,
        env=sandbox.env(),
    )


def _load(sandbox: Sandbox, bundle: Path, prefix: str) -> subprocess.CompletedProcess[str]:
    # no NGC key, no --source-registry: the air gap has no source
    return run_cli(
        "load",
        "--from",
        str(bundle),
        "--target",
        f"{sandbox.target.host}/{prefix}",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )


def _blob_bytes(bundle: Path) -> int:
    return sum(p.stat().st_size for p in (bundle / "blobs").rglob("*") if p.is_file())


def _digests(sandbox: Sandbox, prefix: str, refs: list[str]) -> dict[str, str]:
    return {
        ref: sha256(skopeo_raw(f"{sandbox.target.host}/{prefix}/{ref}", authfile=sandbox.docker_config / "config.json"))
        for ref in refs
    }


def _changed_bytes(sandbox: Sandbox, ns: str, bundle1: Path, changed: list[Any]) -> int:
    """What the changed artifacts bring that v1 did not have: their manifests, configs and new layers."""
    total = 0
    for pushed, repo in zip(changed, ("app-a", "app-b", "chart-d", "app-e"), strict=True):
        raw = skopeo_raw(
            f"{sandbox.source.host}/{ns}/nvidia/{repo}@{pushed.digest}", creds=f"$oauthtoken:{sandbox.api_key}"
        )
        body = json.loads(raw)
        total += len(raw) + sum(
            d["size"]
            for d in [body["config"], *body["layers"]]
            if not (bundle1 / "blobs" / "sha256" / d["digest"].split(":")[1]).exists()
        )
    return total


REFS = ["app-a:1.0", "app-b:1.0", "app-c:1.0", "app-e:1.0", "chart-d:1.0.1"]


def test_an_upgrade_bundle_holds_only_what_changed_and_loads_onto_the_base_to_a_direct_mirrors_digests(
    sandbox: Sandbox, upgrade: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    bundle2 = tmp_path / "bundle-v2"
    done = _save(sandbox, upgrade["v2"], bundle2, "--since", str(upgrade["bundle1"]))
    assert done.returncode == 0, done.stderr
    changed = _changed_bytes(sandbox, ns, upgrade["bundle1"], upgrade["changed"])
    assert _blob_bytes(bundle2) <= 1.1 * changed, (
        f"{_blob_bytes(bundle2)} bytes of blobs for {changed} bytes of changed content"
    )
    assert _blob_bytes(upgrade["bundle1"]) > 3 * LAYER, "v1 carried every image"
    lock = json.loads((bundle2 / "nvcf-mirror.lock.json").read_text())
    assert lock["version"] == 2 and lock["base"]["lock"] == sha256(
        (upgrade["bundle1"] / "nvcf-mirror.lock.json").read_bytes()
    )
    assert sorted(a["key"] for a in lock["artifacts"]) == sorted(
        ["image:app-a:1.0", "image:app-b:1.0", "image:app-c:1.0", "image:app-e:1.0", "chart:chart-d:1.0.1"]
    )
    shared = json.loads(
        skopeo_raw(f"{sandbox.source.host}/{ns}/nvidia/app-e:1.0", creds=f"$oauthtoken:{sandbox.api_key}")
    )["layers"][0]["digest"]
    assert not (bundle2 / "blobs" / "sha256" / shared.split(":")[1]).exists(), (
        "the new image's base layer is left out: the target has it"
    )

    # An interrupted save --since (killed before a layer arrived: no tag, no lock yet) re-run finishes the same bundle.
    files = sorted(p.name for p in (bundle2 / "blobs" / "sha256").iterdir())
    largest = max((bundle2 / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    for gone in (largest, bundle2 / "index.json", bundle2 / "nvcf-mirror.lock.json"):
        gone.unlink()
    assert _save(sandbox, upgrade["v2"], bundle2, "--since", str(upgrade["bundle1"])).returncode == 0
    assert sorted(p.name for p in (bundle2 / "blobs" / "sha256").iterdir()) == files
    assert json.loads((bundle2 / "nvcf-mirror.lock.json").read_text()) == lock

    loaded = _load(sandbox, bundle2, f"{ns}-site")
    assert loaded.returncode == 0, loaded.stderr
    mirrored = run_cli(
        "mirror",
        "--manifest",
        str(upgrade["v2"]),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}-direct",
        env=sandbox.env(),
    )
    assert mirrored.returncode == 0, mirrored.stderr
    assert _digests(sandbox, f"{ns}-site", REFS) == _digests(sandbox, f"{ns}-direct", REFS), (
        "base then differential = a direct mirror"
    )
    verified = run_cli(
        "verify",
        "--from",
        str(bundle2),
        "--target",
        f"{sandbox.target.host}/{ns}-site",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert verified.returncode == 0, verified.stderr


def test_a_differential_bundle_onto_a_target_without_its_base_is_refused_naming_the_base_and_pushes_nothing(
    sandbox: Sandbox, upgrade: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    bundle2 = tmp_path / "bundle-v2"
    assert _save(sandbox, upgrade["v2"], bundle2, "--since", str(upgrade["bundle1"])).returncode == 0
    done = _load(sandbox, bundle2, f"{ns}-empty")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    # named by its folder's name alone: the connected side's path stays on the connected side (issue 36)
    assert f"load its base first, the bundle written from {upgrade['bundle1'].name} (lock" in line, line
    assert str(upgrade["bundle1"].parent) not in line
    catalog = httpx.get(
        f"{sandbox.target.url}/v2/_catalog",
        params={"n": "1000", "last": f"{ns}-empty"},
        auth=(ECR_USER, sandbox.target_password),
    )
    assert [r for r in catalog.json()["repositories"] if r.startswith(f"{ns}-empty/")] == [], "nothing was pushed"


def test_a_base_given_as_its_lock_file_alone_or_in_the_previous_lock_format_serves(
    sandbox: Sandbox, upgrade: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    lock_alone = tmp_path / "carried-back.lock.json"
    shutil.copy(upgrade["bundle1"] / "nvcf-mirror.lock.json", lock_alone)
    from_lock, from_dir = tmp_path / "from-lock", tmp_path / "from-dir"
    assert _save(sandbox, upgrade["v2"], from_lock, "--since", str(lock_alone)).returncode == 0
    assert _save(sandbox, upgrade["v2"], from_dir, "--since", str(upgrade["bundle1"])).returncode == 0
    assert sorted(p.name for p in (from_lock / "blobs" / "sha256").iterdir()) == sorted(
        p.name for p in (from_dir / "blobs" / "sha256").iterdir()
    )

    # Version 1 (before differential bundles) lists artifact digests only: unchanged artifacts are left out whole.
    old = json.loads(lock_alone.read_text())
    v1_lock = tmp_path / "v1.lock.json"
    v1_lock.write_text(
        json.dumps(
            {"version": 1, "artifacts": [{k: v for k, v in a.items() if k != "manifests"} for a in old["artifacts"]]}
        )
    )
    bundle = tmp_path / "over-v1-lock"
    done = _save(sandbox, upgrade["v2"], bundle, "--since", str(v1_lock))
    assert done.returncode == 0, done.stderr
    unchanged = next(a["digest"] for a in old["artifacts"] if a["key"] == "image:app-c:1.0")
    assert not (bundle / "blobs" / "sha256" / unchanged.split(":")[1]).exists(), "the unchanged image is left out"
    assert _blob_bytes(bundle) > _blob_bytes(from_dir), (
        "without the blob lists, changed images carry their shared layer too"
    )
    loaded = _load(sandbox, bundle, f"{ns}-site")
    assert loaded.returncode == 0, loaded.stderr
    assert _digests(sandbox, f"{ns}-site", REFS)["app-c:1.0"] == unchanged


def test_a_split_bundle_loads_and_a_corrupt_or_missing_part_is_refused_naming_it(
    sandbox: Sandbox, upgrade: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "split" / "nvcf.tar"
    done = _save(sandbox, upgrade["v1"], bundle, "--archive-size", "1MiB")
    assert done.returncode == 0, done.stderr
    parts = sorted(p.name for p in bundle.parent.iterdir())
    # .000, .001, … and the list
    assert parts[-1] == "nvcf.tar.sha256" and len(parts) >= 4 and not bundle.exists(), parts
    assert all((bundle.parent / name).stat().st_size <= 1 << 20 for name in parts[:-1])

    def broken(name: str, change: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(bundle.parent, copy)
        part = copy / "nvcf.tar.001"
        if change == "flip":
            data = bytearray(part.read_bytes())
            data[len(data) // 2] ^= 0x01
            part.write_bytes(bytes(data))
        else:
            part.unlink()
        return copy / "nvcf.tar"

    for change, says in (
        ("flip", "corrupt: part 2 of the split bundle nvcf.tar does not match its checksum"),
        ("remove", "missing: part 2 of the split bundle nvcf.tar"),
    ):
        refused = _load(sandbox, broken(change, change), f"{ns}-{change}")
        assert refused.returncode == 2, refused.stderr
        [line] = refused.stderr.strip().splitlines()
        assert f"nvcf.tar.001: {says}" in line, line
        catalog = httpx.get(
            f"{sandbox.target.url}/v2/_catalog",
            params={"n": "1000", "last": f"{ns}-{change}"},
            auth=(ECR_USER, sandbox.target_password),
        )
        assert [r for r in catalog.json()["repositories"] if r.startswith(f"{ns}-{change}/")] == [], (
            "nothing of an incomplete bundle is pushed"
        )

    loaded = _load(sandbox, bundle.parent / "nvcf.tar.000", f"{ns}-split")  # the first part names the bundle too
    assert loaded.returncode == 0, loaded.stderr
    split = _digests(sandbox, f"{ns}-split", ["app-a:1.0", "chart-d:1.0.0"])
    assert split["app-a:1.0"] == upgrade["changed"][0].digest, "app-a as the source has it now"
    assert split["chart-d:1.0.0"] == _digests(sandbox, f"{ns}-site", ["chart-d:1.0.0"])["chart-d:1.0.0"]


def test_a_lock_naming_something_other_than_digests_is_refused_as_a_base_and_as_a_bundle(
    sandbox: Sandbox, upgrade: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    """Lock entries become registry URLs (what load asks the target for) and file names: a key that is
    not a digest, or needs that are not blobs and manifests, is one line, exit 2, before any request."""
    bundle2 = tmp_path / "bundle-v2"
    assert _save(sandbox, upgrade["v2"], bundle2, "--since", str(upgrade["bundle1"])).returncode == 0
    lock_path = bundle2 / "nvcf-mirror.lock.json"
    lock = json.loads(lock_path.read_text())
    lock["artifacts"][0]["manifests"]["sha256:../../v2/victim/manifests/x"] = None
    lock_path.write_text(json.dumps(lock))
    done = _load(sandbox, bundle2, f"{ns}-site")
    assert done.returncode == 2 and "'sha256:../../v2/victim/manifests/x' is not a valid digest" in done.stderr, (
        done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr

    base = json.loads((upgrade["bundle1"] / "nvcf-mirror.lock.json").read_text())
    first = next(iter(base["artifacts"][0]["manifests"]))
    base["artifacts"][0]["manifests"][first] = "everything"
    bad_base = tmp_path / "bad.lock.json"
    bad_base.write_text(json.dumps(base))
    refused = _save(sandbox, upgrade["v2"], tmp_path / "never", "--since", str(bad_base))
    assert refused.returncode == 2 and "is not blobs (digest, size) and manifests" in refused.stderr, refused.stderr
    assert not (tmp_path / "never").exists() or not any((tmp_path / "never").rglob("sha256/*")), "nothing saved"


class _EmptyTarget:
    """A target holding nothing: every question answered no (a unit test of the left-out check's logic)."""

    def head_manifest(self, repo: str, reference: str) -> str | None:
        return None

    def has_blob(self, repo: str, digest: str) -> bool:
        return False


def test_a_differential_lock_that_omits_an_artifacts_own_manifest_still_has_it_checked() -> None:
    """A crafted lock lists no manifests for an artifact it leaves out: its own manifest is checked all the
    same, so load refuses before pushing any other artifact."""
    from provider_helper.mirror.bundles import left_out_at_target

    top = "sha256:" + "1" * 64
    missing = left_out_at_target(
        [{"key": "image:app:1.0", "name": "app", "digest": top, "manifests": {}}], lambda d: False, _EmptyTarget(), "p"
    )
    assert missing.items == [f"manifest {top[:19]} of image:app:1.0"]


def test_a_differential_lock_names_its_base_by_file_name_not_by_the_connected_sides_path(tmp_path: Path) -> None:
    from provider_helper.mirror.bundles import Holdings, write_lock_file

    write_lock_file(tmp_path, [], Holdings("/home/alice/bundles/nvcf-2.0.tar", "sha256:" + "2" * 64))
    assert json.loads((tmp_path / "nvcf-mirror.lock.json").read_text())["base"] == {
        "lock": "sha256:" + "2" * 64,
        "from": "nvcf-2.0.tar",
    }
    write_lock_file(tmp_path, [], Holdings("/home/alice/bundles/nvcf-2.0/nvcf-mirror.lock.json", "sha256:" + "2" * 64))
    assert json.loads((tmp_path / "nvcf-mirror.lock.json").read_text())["base"]["from"] == "nvcf-2.0", (
        "a layout folder by its name"
    )


def test_the_left_out_check_asks_the_target_once_per_repository_and_digest() -> None:
    """Artifacts of one repository sharing their blobs: each blob is asked about once there, not once per artifact."""
    from provider_helper.mirror.bundles import left_out_at_target

    asked: list[tuple[str, str]] = []

    class Counting(_EmptyTarget):
        def has_blob(self, repo: str, digest: str) -> bool:
            asked.append((repo, digest))
            return True

    blobs = [{"digest": "sha256:" + str(n) * 64, "size": 1} for n in range(3)]
    entries = [
        {
            "key": f"image:app:{t}",
            "name": "app",
            "digest": "sha256:" + "9" * 64,
            "manifests": {"sha256:" + "9" * 64: {"blobs": blobs, "manifests": []}},
        }
        for t in ("1.0", "1.1", "1.2")
    ]
    assert left_out_at_target(entries, lambda d: d == "sha256:" + "9" * 64, Counting(), "p").items == []
    assert sorted(asked) == sorted(("p/app", b["digest"]) for b in blobs)


def test_load_dry_run_compares_with_the_target_and_pushes_nothing_and_load_then_pushes(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """CONTRACTS, Command line: "`nvcf-mirror load --from PATH [TARGET] [--result-file PATH] [--dry-run] ...`"; load
    --help: "--dry-run  Resolve and compare with the target; push nothing." The dry run's result plans each artifact
    with its digest and the target holds no tag after it; the same load without --dry-run then pushes them."""
    image = source.image(f"{ns}/nvidia/app", "1.0")
    chart = source.chart(f"{ns}/nvidia/stack", "1.0.0")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1.0", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/stack:1.0.0", "group": "test"},
        ],
    )
    bundle = tmp_path / "bundle"
    assert _save(sandbox, manifest, bundle).returncode == 0
    result = tmp_path / "dry.json"
    env = {"DOCKER_CONFIG": str(sandbox.docker_config)}
    target = f"{sandbox.target.host}/{ns}-site"
    dry = run_cli("load", "--from", str(bundle), "--target", target, "--dry-run", "--result-file", str(result), env=env)
    assert dry.returncode == 0, dry.stderr
    planned = {a["key"]: (a["status"], a["digest"]) for a in json.loads(result.read_text())["artifacts"]}
    assert planned == {"image:app:1.0": ("planned", image.digest), "chart:stack:1.0.0": ("planned", chart.digest)}
    for ref in ("app:1.0", "stack:1.0.0"):
        with pytest.raises(LookupError):
            skopeo_raw(f"{target}/{ref}", authfile=sandbox.docker_config / "config.json")
    assert _load(sandbox, bundle, f"{ns}-site").returncode == 0
    assert _digests(sandbox, f"{ns}-site", ["app:1.0", "stack:1.0.0"]) == {
        "app:1.0": image.digest,
        "stack:1.0.0": chart.digest,
    }
