"""Air-gapped path: save to an OCI layout, load it into another prefix, verify against the lock file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, sha256, skopeo_raw, write_manifest
from realclients import Containerd, ContainersTool, image_digest

from provider_helper.results import human_bytes
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.registry import LocalRegistry
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture
def saved_set(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> dict[str, Any]:
    _, children = source.index(f"{ns}/nvidia/nvcf-openbao", "2.5.1-nv-1.1.0")
    single = source.image(f"{ns}/nvidia/nats-box", "0.19.2-nonroot", fmt="docker")
    chart = source.chart(f"{ns}/nvidia/gdn-streaming", "2.0.1")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nvcf-openbao:2.5.1-nv-1.1.0", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/nats-box:0.19.2-nonroot", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/gdn-streaming:2.0.1", "group": "test"},
        ],
    )
    expected = {
        "nvcf-openbao:2.5.1-nv-1.1.0": children["linux/amd64"].digest,
        "nats-box:0.19.2-nonroot": single.digest,
        "gdn-streaming:2.0.1": chart.digest,
    }
    return {"manifest": manifest, "expected": expected}


def _save(sandbox: Sandbox, manifest: Path, to: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(to),
        env=sandbox.env(),
    )


def _skopeo_oci(layout: Path, ref: str) -> bytes:
    return subprocess.run(["skopeo", "inspect", "--raw", f"oci:{layout}:{ref}"], capture_output=True, check=True).stdout


@pytest.mark.parametrize("kind", ["dir", "tar"])
def test_save_then_load_gives_digest_identical_artifacts(
    sandbox: Sandbox, saved_set: dict[str, Any], ns: str, tmp_path: Path, kind: str
) -> None:
    layout = tmp_path / ("layout.tar" if kind == "tar" else "layout")
    done = _save(sandbox, saved_set["manifest"], layout)
    assert done.returncode == 0, done.stderr
    if kind == "dir":
        # The Docker-format nats-box is read through its OCI copy (another digest; see the test below).
        for ref in ("nvcf-openbao:2.5.1-nv-1.1.0", "gdn-streaming:2.0.1"):
            assert sha256(_skopeo_oci(layout, ref)) == saved_set["expected"][ref], f"skopeo reads {ref} from the layout"
        copy = json.loads(_skopeo_oci(layout, "nats-box:0.19.2-nonroot"))
        assert copy["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        lock = json.loads((layout / "nvcf-mirror.lock.json").read_text())
        assert {a["key"]: a["digest"] for a in lock["artifacts"]}["image:nvcf-openbao:2.5.1-nv-1.1.0"] == saved_set[
            "expected"
        ]["nvcf-openbao:2.5.1-nv-1.1.0"]
    else:
        assert layout.is_file() and not layout.with_name("layout.tar.partial").exists()

    prefix = f"{ns}-airgap"
    # no NGC key and no --source-registry: the load cannot reach the source
    loaded = run_cli(
        "load",
        "--from",
        str(layout),
        "--target",
        f"{sandbox.target.host}/{prefix}",
        "--result-file",
        str(tmp_path / "r.json"),
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert loaded.returncode == 0, loaded.stderr
    assert all(a["status"] == "copied" for a in json.loads((tmp_path / "r.json").read_text())["artifacts"])
    for ref, digest in saved_set["expected"].items():
        assert (
            sha256(skopeo_raw(f"{sandbox.target.host}/{prefix}/{ref}", authfile=sandbox.docker_config / "config.json"))
            == digest
        )
    verified = run_cli(
        "verify",
        "--from",
        str(layout),
        "--target",
        f"{sandbox.target.host}/{prefix}",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert verified.returncode == 0, verified.stderr


def test_load_refuses_a_corrupted_blob_and_pushes_no_tag_for_it(
    sandbox: Sandbox, saved_set: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    assert _save(sandbox, saved_set["manifest"], layout).returncode == 0
    openbao = json.loads(_skopeo_oci(layout, "nvcf-openbao:2.5.1-nv-1.1.0"))
    blob = layout / "blobs" / "sha256" / openbao["layers"][-1]["digest"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x01
    blob.write_bytes(bytes(data))
    prefix = f"{ns}-corrupt"
    done = run_cli(
        "load",
        "--from",
        str(layout),
        "--target",
        f"{sandbox.target.host}/{prefix}",
        "--result-file",
        str(tmp_path / "r.json"),
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert done.returncode == 1
    results = {a["key"]: a for a in json.loads((tmp_path / "r.json").read_text())["artifacts"]}
    bad = results["image:nvcf-openbao:2.5.1-nv-1.1.0"]
    assert bad["status"] == "failed" and "does not match its digest" in bad["error"]
    with pytest.raises(LookupError):
        skopeo_raw(
            f"{sandbox.target.host}/{prefix}/nvcf-openbao:2.5.1-nv-1.1.0",
            authfile=sandbox.docker_config / "config.json",
        )
    assert results["image:nats-box:0.19.2-nonroot"]["status"] == "copied"


def test_resumed_save_fetches_only_what_is_missing(sandbox: Sandbox, saved_set: dict[str, Any], tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    assert _save(sandbox, saved_set["manifest"], layout).returncode == 0
    blobs = sorted((layout / "blobs" / "sha256").iterdir())
    removed = [b for b in blobs if b.stat().st_size > 10_000][:1]  # an interrupted save: one layer never arrived
    for b in removed:
        b.unlink()
    kept_mtimes = {b: b.stat().st_mtime_ns for b in blobs if b not in removed}
    again = run_cli(
        "--log-format",
        "json",
        "save",
        "--manifest",
        str(saved_set["manifest"]),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(layout),
        "--jobs",
        "1",
        env=sandbox.env(),
    )
    assert again.returncode == 0, again.stderr
    assert all(b.exists() for b in removed), "the missing blob was fetched"
    assert {b: b.stat().st_mtime_ns for b in kept_mtimes} == kept_mtimes, (
        "blobs already in the layout were not written again"
    )
    events = [json.loads(line) for line in again.stderr.splitlines()]
    copied = next(e["bytes_copied"] for e in events if e.get("event") == "summary")
    assert copied == sum(b.stat().st_size for b in removed)
    shutil.rmtree(layout)


def test_saving_again_after_a_tag_moved_leaves_one_index_entry_per_name(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/app", "1.0")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1.0", "group": "test"}]
    )
    layout = tmp_path / "layout"
    assert _save(sandbox, manifest, layout).returncode == 0
    moved = source.image(f"{ns}/nvidia/app", "1.0", layer_sizes=(4096,))
    done = _save(sandbox, manifest, layout)
    assert done.returncode == 0, done.stderr
    entries = json.loads((layout / "index.json").read_text())["manifests"]
    assert [(e["annotations"]["org.opencontainers.image.ref.name"], e["digest"]) for e in entries] == [
        ("app:1.0", moved.digest)
    ]
    assert sha256(_skopeo_oci(layout, "app:1.0")) == moved.digest
    lock = json.loads((layout / "nvcf-mirror.lock.json").read_text())
    assert [(a["key"], a["digest"]) for a in lock["artifacts"]] == [("image:app:1.0", moved.digest)]


def test_skopeo_podman_buildah_and_ctr_read_every_saved_artifact_from_a_directory_and_a_tar(
    open_registry: LocalRegistry,
    podman: ContainersTool,
    buildah: ContainersTool,
    containerd: Containerd,
    ns: str,
    tmp_path: Path,
) -> None:
    """Docker-format images (single and list) included: containers/image reads them through their OCI copy,
    whose blobs are the original's; ctr images import, like load, takes the original and gets its digest.
    podman and buildah pull images only: a Helm chart is read by skopeo (and by Helm after load)."""
    factory = Factory(open_registry.url, lambda repo: "")
    made = {
        "docker-single:1.0": factory.image(f"{ns}/nvidia/docker-single", "1.0", fmt="docker", runnable=True),
        "docker-list:1.0": factory.index(f"{ns}/nvidia/docker-list", "1.0", fmt="docker", runnable=True)[0],
        "oci-list:1.0": factory.index(f"{ns}/nvidia/oci-list", "1.0", runnable=True)[0],
        "chart:0.1.0": factory.chart(f"{ns}/nvidia/chart", "0.1.0"),
    }
    factory.close()
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {
                "type": "chart" if ref.startswith("chart") else "image",
                "source": f"nvcr.io/{ns}/nvidia/{ref}",
                "group": "test",
            }
            for ref in made
        ],
    )
    layout, archive = tmp_path / "layout", tmp_path / "layout.tar"
    for to in (layout, archive):
        done = run_cli(
            "save",
            "--manifest",
            str(manifest),
            "--source-registry",
            open_registry.host,
            "--to",
            str(to),
            "--all-platforms",
        )
        assert done.returncode == 0, done.stderr
    saved = json.loads((layout / "nvcf-mirror.lock.json").read_text())["artifacts"]
    lock = {f"{a['name']}:{a['tag']}": a["digest"] for a in saved}
    assert lock == {ref: pushed.digest for ref, pushed in made.items()}, "the lock names the source's exact digests"
    for ref, pushed in made.items():
        for where in (f"oci:{layout}", f"oci-archive:{archive}"):
            read = subprocess.run(["skopeo", "inspect", "--raw", f"{where}:{ref}"], capture_output=True, check=True)
            raw = json.loads(read.stdout)
            source = json.loads(skopeo_raw(f"{open_registry.host}/{ns}/nvidia/{ref}"))
            assert _blob_digests(raw) == _blob_digests(source), f"skopeo reads {ref} from {where}, the source's blobs"
            if not pushed.media_type.startswith("application/vnd.docker"):
                assert raw == source, f"{ref}: an OCI artifact is read as the source wrote it"
    images = [ref for ref in made if not ref.startswith("chart")]
    for where in (f"oci:{layout}", f"oci-archive:{archive}"):
        for ref in images:
            podman.run("pull", f"{where}:{ref}")
            buildah.run("pull", f"{where}:{ref}")
    refused = podman.run("pull", f"oci:{layout}:chart:0.1.0", check=False)
    assert refused.returncode != 0 and "artifact" in refused.stderr, "README: podman pulls images, not Helm charts"
    containerd.ctr("images", "import", "--all-platforms", "--no-unpack", str(archive))
    listing = containerd.ctr("images", "ls").stdout
    assert {ref: image_digest(listing, ref) for ref in made} == lock, "ctr images import names the originals"


def _blob_digests(body: dict[str, Any]) -> list[Any]:
    """The config and layers of a manifest, or the platforms of an index: what an OCI copy keeps."""
    if "manifests" in body:
        return sorted(str(m.get("platform")) for m in body["manifests"])
    return [body["config"]["digest"], *(layer["digest"] for layer in body["layers"])]


def test_a_save_to_tar_that_could_not_finish_says_what_it_kept_and_that_a_re_run_resumes_it(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/here", "1")
    entries = [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1", "group": "test"} for n in ("here", "later")]
    manifest = write_manifest(tmp_path / "m.yaml", entries)
    bundle = tmp_path / "big.tar"
    done = _save(sandbox, manifest, bundle)
    assert done.returncode == 1
    partial = tmp_path / "big.tar.partial"
    kept = sum(f.stat().st_size for f in partial.rglob("*") if f.is_file())
    said = [line.split(" nvcf-mirror: ", 1)[1] for line in done.stderr.splitlines() if "kept" in line]
    assert said == [
        f"{bundle} is not written; kept {partial}/ ({human_bytes(kept)}): run the same save again to "
        "resume it (blobs already there are not fetched again)"
    ]
    assert not bundle.exists()
    source.image(f"{ns}/nvidia/later", "1")
    again = _save(sandbox, manifest, bundle)
    assert again.returncode == 0, again.stderr
    assert bundle.is_file() and not partial.exists() and "kept" not in again.stderr
