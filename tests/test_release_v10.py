"""Issue 34's acceptance, end to end: the bundled NVCF v1.0 release planned, mirrored from stand-ins for every
registry and repository host it names, verified, saved into a bundle and loaded into a second prefix, read
back by skopeo and the real Helm, and its Helmfile values pointing at what is there.

Real parts: one Distribution registry per upstream (nvcr.io with its ``/proxy_auth`` tokens and the public
``nvidia/`` catalog, Docker Hub with its token service and ``library/``, quay.io, ghcr.io: tests/upstreams.py),
one web server per classic Helm repository host laid out as that host lays it out (helm.ngc.nvidia.com/nvidia/nvcf,
the github.io repositories), the NGC stand-in serving the ``nvidia/nvcf`` resources anonymously, an open
Distribution registry as the target, skopeo and Helm 3 and 4. Every artifact of ``--all-groups`` is seeded by
``seed_selection`` (small synthetic content); the seven rows the page publishes without a version are pinned
with ``--set-version``. One set-up runs the commands and one test reads what they did: the suite hands out
tests one at a time to its workers, and each worker running a test of a module would start the set-up again.
The offline plan test needs none of it.
"""

from __future__ import annotations

import functools
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from helpers import run_cli, sha256, skopeo_raw
from realclients import Helm
from upstreams import StandIn, source_maps

from provider_helper import manifest as manifest_mod
from provider_helper.artifacts import Artifact
from provider_helper.sandbox.ngcserver import NgcStandIn
from provider_helper.sandbox.registry import LocalRegistry
from provider_helper.sandbox.seeding import Seeded, seed_selection

RELEASE = "v1.0"
PAGE = Path(__file__).parent / "data" / "nvidia-manifest" / "v1.0.md"
PIN = "1.0.0"  # the version given to each row the page publishes without one


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(root: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _as_published(seeded: Seeded, helm_root: Path) -> None:
    """Chart URLs as the hosts publish them: absolute on helm.ngc.nvidia.com (and raw.githubusercontent.com), and
    for a github.io repository on github.com, as a release download
    (``https://github.com/OWNER/REPO/releases/download/CHART-VERSION/CHART-VERSION.tgz``)."""
    for repo, folder in seeded.helm_repositories.items():
        host, path = urlsplit(repo).netloc, urlsplit(repo).path.strip("/")
        index = yaml.safe_load((folder / "index.yaml").read_text())
        for entries in index["entries"].values():
            for entry in entries:
                relative = entry["urls"][0]
                if host.endswith(".github.io"):
                    owner, project = host.split(".")[0], path.split("/")[0]
                    release = f"{owner}/{project}/releases/download/{entry['name']}-{entry['version']}"
                    (helm_root / "github.com" / release).mkdir(parents=True, exist_ok=True)
                    (folder / relative).rename(helm_root / "github.com" / release / Path(relative).name)
                    entry["urls"] = [f"https://github.com/{release}/{Path(relative).name}"]
                else:
                    entry["urls"] = [f"{repo}/{relative}"]
        (folder / "index.yaml").write_text(yaml.safe_dump(index))


@dataclass
class Run:
    """What the set-up seeded and what each command answered."""

    artifacts: list[Artifact]  # every artifact of the release, the unpinned ones pinned to PIN
    seeded: Seeded
    target: str  # host/prefix the mirror wrote to
    loaded: str  # host/prefix the bundle was loaded into
    done: dict[str, subprocess.CompletedProcess[str]]  # each command's answer, by step
    results: dict[str, dict[str, dict[str, Any]]]  # "mirror", "load": the result document's artifacts by key
    ngc: NgcStandIn
    seconds: dict[str, float]  # wall time of the seeding and of each step


@pytest.fixture(scope="module")
def release(
    upstreams: dict[str, StandIn], open_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    """Seed every artifact of the release, then mirror, verify, save, load and verify the loaded prefix."""
    started = time.monotonic()
    work = tmp_path_factory.mktemp("release-v10")
    every = manifest_mod.load(release=RELEASE).select(all_groups=True)
    unpinned = [a.name for a in every if a.needs_version]
    artifacts = [a.pinned(PIN) if a.needs_version else a for a in every]
    others = {host: upstreams[host].factory for host in ("docker.io", "quay.io", "ghcr.io")}
    seeded = seed_selection(artifacts, upstreams["nvcr.io"].factory, work / "helm", others, layer_size=2048)
    ngc = NgcStandIn(
        personal_key="nvapi-" + secrets.token_hex(8), legacy_key=secrets.token_hex(8), public_orgs={"nvidia"}
    )
    ngc.resources.update(seeded.resources)
    _as_published(seeded, work / "helm")
    servers = {host.name: _serve(host) for host in sorted((work / "helm").iterdir())}
    sources = [
        *source_maps(upstreams),
        *(
            arg
            for host, server in servers.items()
            for arg in ("--source-map", f"{host}=127.0.0.1:{server.server_address[1]}")
        ),
    ]
    selection = [
        "--release",
        RELEASE,
        "--all-groups",
        *(arg for name in unpinned for arg in ("--set-version", f"{name}={PIN}")),
        *sources,
    ]
    ns = "r" + secrets.token_hex(5)
    target, loaded = f"{open_registry.host}/{ns}/mirror", f"{open_registry.host}/{ns}/loaded"
    bundle = work / "bundle.tar"
    steps = {
        "plan": (
            "plan",
            "--release",
            RELEASE,
            *sources,
            "--target",
            target,
            "--output",
            "json",
        ),  # the default selection
        "mirror": ("mirror", *selection, "--target", target, "--result-file", str(work / "mirror.json")),
        "verify": ("verify", *selection, "--target", target),
        "save": ("save", *selection, "--to", str(bundle)),
        "load": ("load", "--from", str(bundle), "--target", loaded, "--result-file", str(work / "load.json")),
        "verify-loaded": ("verify", "--from", str(bundle), "--target", loaded),
        "values": ("values", *selection, "--target", target),
    }
    seconds = {"seed": time.monotonic() - started}
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    # and no NGC_API_KEY, no login anywhere
    env = {
        "NVCF_MIRROR_NGC_API_URL": ngc.url,
        "NVCF_MIRROR_NGC_AUTHN_URL": ngc.url,
    }
    try:
        for step, args in steps.items():
            began = time.monotonic()
            done[step] = run_cli(*args, env=env)
            seconds[step] = time.monotonic() - began
        results = {
            name: {a["key"]: a for a in json.loads((work / f"{name}.json").read_text())["artifacts"]}
            for name in ("mirror", "load")
            if (work / f"{name}.json").exists()
        }
        yield Run(artifacts, seeded, target, loaded, done, results, ngc, seconds)
    finally:
        ngc.close()
        for server in servers.values():
            server.shutdown()
            server.server_close()


def _page_rows() -> list[dict[str, str]]:
    """The artifact rows of the current page's tables (tests/data), by column name."""
    rows: list[dict[str, str]] = []
    header: list[str] = []
    for line in PAGE.read_text().splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif not set(line) <= set("|- "):
            rows.append(dict(zip(header, cells, strict=True)))
    return [row for row in rows if "Distribution" in row]


def test_plan_of_the_release_lists_every_row_of_the_page_and_selects_the_required_ones(tmp_path: Path) -> None:
    """Offline: what ``plan --release v1.0`` lists, against the bundled manifest's groups and the page's tables."""
    bundled = manifest_mod.load(release=RELEASE)
    every = bundled.select(all_groups=True)
    required_groups = {g.name for g in bundled.groups if g.default}
    page = _page_rows()
    common = ["plan", "--release", RELEASE, "--offline", "--target", "127.0.0.1:9/cluster", "--output", "json"]
    default, everything = run_cli(*common), run_cli(*common, "--all-groups")
    assert default.returncode == 0 and everything.returncode == 0, default.stderr + everything.stderr
    selected = {a["key"]: a for a in json.loads(default.stdout)["artifacts"]}
    listed = {a["key"]: a for a in json.loads(everything.stdout)["artifacts"]}
    assert set(listed) == {a.key for a in every} and len(listed) == len(page), "every row of the page, once"
    pinned = {
        row["Distribution"].removeprefix("nvcr.io/")
        if "Required" not in row
        else row["Distribution"].removeprefix("oci://")
        for row in page
        if row["Version"] != "supported"
    }  # a resource by its NGC path, an OCI chart by its reference
    assert pinned == {a["source"] for a in listed.values() if a["status"] == "planned"}, (
        "each pinned row's reference is a source"
    )
    assert sum(row["Version"] == "supported" for row in page) == sum(a["status"] == "skipped" for a in listed.values())
    assert {"self-managed", "compute-plane", "observability"} <= {row["Stack"] for row in page}, (
        "the page's three stacks"
    )
    assert set(selected) == {a.key for a in every if a.group in required_groups}
    assert len(selected) == sum(row.get("Required") == "Required" for row in page), (
        "the page's Required rows are the default"
    )


def _images(values: Any, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """Every image block of a values document (a mapping with registry and repository under a key ending in image)."""
    if isinstance(values, dict):
        if {"registry", "repository"} <= set(values) and path.endswith("image"):
            yield path, values
        for key, value in values.items():
            yield from _images(value, f"{path}.{key}" if path else key)


def test_the_whole_release_mirrors_from_every_registry_verifies_loads_from_a_bundle_and_reads_back_with_skopeo_and_helm(
    release: Run, helms: dict[str, Helm], tmp_path: Path
) -> None:
    """One run through issue 34's acceptance; each step's failure names the step."""
    steps = {step: done.returncode for step, done in release.done.items()}
    assert steps == dict.fromkeys(release.done, 0), {
        s: release.done[s].stderr[-2000:] for s, code in steps.items() if code
    }
    every = {a.key for a in release.artifacts}
    # plan: the default selection (the page's Required rows), each source resolved at its stand-in
    planned = {a["key"]: a for a in json.loads(release.done["plan"].stdout)["artifacts"]}
    assert set(planned) == {a.key for a in manifest_mod.load(release=RELEASE).select()}
    mirrored = release.results["mirror"]
    for key, entry in planned.items():  # an unpinned Required row is listed and skipped until pinned
        if entry["status"] == "planned":
            assert entry["digest"] == mirrored[key]["digest"], key
        else:
            assert entry["status"] == "skipped" and key.endswith(":<unpinned>") and entry["digest"] is None, key
    # mirror: every artifact, of every kind, from every registry, where the Helm templates look for it
    assert set(mirrored) == every and {a["status"] for a in mirrored.values()} == {"copied"}
    assert {a.image.registry for a in release.artifacts if a.image is not None} == {
        "nvcr.io",
        "docker.io",
        "quay.io",
        "ghcr.io",
    }
    kinds = {
        "classic chart" if a.is_classic_chart else a.type if a.type != "chart" else "OCI chart"
        for a in release.artifacts
    }
    assert kinds == {"image", "classic chart", "OCI chart", "resource"}
    for artifact in release.artifacts:
        assert mirrored[artifact.key]["target"] == f"{release.target}/{artifact.name}:{artifact.tag}", artifact.key
        if artifact.key in release.seeded.pushed and release.seeded.pushed[artifact.key].media_type.endswith(
            "manifest.v1+json"
        ):
            assert mirrored[artifact.key]["digest"] == release.seeded.pushed[artifact.key].digest, artifact.key
    assert release.ngc.anonymous_requests > 0 and release.ngc.unauthorized == 0, (
        "the public nvidia/nvcf resources, without a key"
    )
    assert f"{len(every)} verified, 0 failed" in release.done["verify"].stderr
    # the bundle: the same artifacts, the same digests, in the second prefix
    loaded = release.results["load"]
    assert {k: a["digest"] for k, a in loaded.items()} == {k: a["digest"] for k, a in mirrored.items()}
    assert f"{len(every)} verified, 0 failed" in release.done["verify-loaded"].stderr
    # skopeo: an image of each upstream registry, by the reported digest, in both prefixes
    for host in ("nvcr.io", "docker.io", "quay.io", "ghcr.io"):
        artifact = next(
            a for a in release.artifacts if a.type == "image" and a.image is not None and a.image.registry == host
        )
        for where in (release.target, release.loaded):
            raw = skopeo_raw(f"{where}/{artifact.name}@{mirrored[artifact.key]['digest']}")
            assert sha256(raw) == mirrored[artifact.key]["digest"], (host, where)
            assert "layers" in json.loads(raw), f"{artifact.key}: the linux/amd64 image manifest"
    # Helm 3 and 4: a chart that was classic on helm.ngc.nvidia.com/nvidia/nvcf, pulled and templated from both prefixes
    classic = next(
        a for a in release.artifacts if a.is_classic_chart and a.repo == "https://helm.ngc.nvidia.com/nvidia/nvcf"
    )
    archive = (
        release.seeded.helm_repositories[classic.repo or ""] / "charts" / f"{classic.chart}-{classic.version}.tgz"
    ).read_bytes()
    github = next(a for a in release.artifacts if a.is_classic_chart and ".github.io/" in (a.repo or ""))
    assert mirrored[github.key]["source"] == f"{github.repo}/{github.chart}:{github.version}", (
        "read from its release download"
    )
    for major, helm in helms.items():
        for where in (release.target, release.loaded):
            pulled = tmp_path / f"{major}-{where.rsplit('/', 1)[1]}"
            pulled.mkdir()
            chart = f"oci://{where}/{classic.chart}"
            helm.run("pull", chart, "--version", classic.version or "", "--plain-http", "-d", str(pulled))
            assert (pulled / f"{classic.chart}-{classic.version}.tgz").read_bytes() == archive, (
                f"Helm {major} pulls it from {where}"
            )
            rendered = yaml.safe_load(
                helm.run("template", "demo", chart, "--version", classic.version or "", "--plain-http").stdout
            )
            assert rendered["metadata"]["name"] == f"demo-{classic.chart}", f"Helm {major} templates it from {where}"
    # values: the mirror for global.image, global.helm.sources and the Docker Hub images, each repository there
    values = yaml.safe_load(release.done["values"].stdout)
    host, prefix = release.target.split("/", 1)
    assert values["global"]["image"] == values["global"]["helm"]["sources"] == {"registry": host, "repository": prefix}
    overrides = {path: image for path, image in _images(values) if path != "global.image"}
    hub = {a.name: a for a in release.artifacts if a.image is not None and a.image.registry == "docker.io"}
    assert {path: image["repository"].rsplit("/", 1)[1] for path, image in overrides.items()} == {
        "api.accountBootstrap.image": "alpine-k8s",
        "nats.reloader.image": "nats-server-config-reloader",
    }
    for path, image in overrides.items():
        artifact = hub[image["repository"].rsplit("/", 1)[1]]
        assert (image["registry"], image["repository"], image["tag"]) == (
            host,
            f"{prefix}/{artifact.name}",
            artifact.tag,
        ), path
        assert sha256(skopeo_raw(f"{host}/{image['repository']}:{image['tag']}")) == mirrored[artifact.key]["digest"], (
            path
        )
    # global.image and global.helm.sources: every image and chart is under the prefix
    for artifact in release.artifacts:
        if artifact.resource is None:
            assert (
                sha256(skopeo_raw(f"{host}/{prefix}/{artifact.name}:{artifact.tag}"))
                == mirrored[artifact.key]["digest"]
            )
    print(" ".join(f"{step} {seconds:.1f}s" for step, seconds in release.seconds.items()))
