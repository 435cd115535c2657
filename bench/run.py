#!/usr/bin/env python3
"""nvcf-mirror against skopeo on a WAN-like link: cold, warm, one-changed-image and new-prefix runs.

    python bench/run.py                 # everything: registries, artifact set, WAN proxy, 3 tools x 4 cases x 3 runs
    python bench/run.py --runs 1 --no-wan --size-mib 300    # a quick look
    python bench/run.py --set small     # 13 small images over 2 shared base layers (the latency-bound shape)

Cold runs start with every tool's cache emptied (nvcf-mirror's blob locations and checked
manifests, skopeo's blob-info cache); "new prefix" copies into another prefix of the same target
registry with the caches the earlier runs left (a second cluster in the same account).

Run by hand, never in CI. Writes bench/results/<date>.md and prints the table.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wanproxy import WanProxy

from provider_helper.sandbox.images import DOCKER_LAYER, OCI_INDEX, OCI_LAYER_RAW, Factory, Pushed
from provider_helper.sandbox.registry import LocalRegistry, htpasswd_auth, token_auth
from provider_helper.sandbox.tokens import TokenServer

HERE = Path(__file__).resolve().parent
NS = "nvcf-bench"
CASES = ("cold", "warm", "one changed image", "new prefix")


@dataclass
class Stack:
    work: Path
    key: str = "nvapi-bench-" + os.urandom(6).hex()
    password: str = "bench-" + os.urandom(6).hex()

    def start(self, shaped: bool, rtt_ms: float, rate: float) -> Stack:
        self.tokens = TokenServer(api_key=self.key).start()
        self.source = LocalRegistry(self.work / "source", auth=token_auth(self.tokens, self.work / "source"), access_log=True).start()
        self.wan = WanProxy(self.source.port, rtt_ms, rate, shaped)
        self.source_host = f"127.0.0.1:{self.wan.port}"
        self.targets = 0
        self.target: LocalRegistry | None = None
        self.new_target()
        return self

    def new_target(self) -> None:
        """An empty target registry, so no tool can mount blobs left by another's run."""
        if self.target is not None:
            self.target.stop()
            self.retired_requests = getattr(self, "retired_requests", 0) + _lines(self.target.log_path)
        self.targets += 1
        folder = self.work / f"target{self.targets}"
        self.target = LocalRegistry(folder, auth=htpasswd_auth({"AWS": self.password}, folder), access_log=True).start()
        auth = {
            self.source_host: {"auth": base64.b64encode(f"$oauthtoken:{self.key}".encode()).decode()},
            self.target.host: {"auth": base64.b64encode(f"AWS:{self.password}".encode()).decode()},
        }
        (self.work / "docker").mkdir(exist_ok=True)
        self.authfile = self.work / "docker" / "config.json"
        self.authfile.write_text(json.dumps({"auths": auth}))

    def stop(self) -> None:
        if self.target is not None:
            self.target.stop()
        self.source.stop()
        self.tokens.stop()

    def requests(self) -> int:
        assert self.target is not None
        return _lines(self.source.log_path) + _lines(self.target.log_path) + getattr(self, "retired_requests", 0)


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if b'HTTP/1.1"' in line)


@dataclass
class ArtifactSet:
    images: list[str] = field(default_factory=list)  # repo:tag
    charts: list[str] = field(default_factory=list)


def seed(stack: Stack, images: int, size_mib: int) -> ArtifactSet:
    """``images`` images (half of them multi-arch), three shared base layers, two charts: ~size_mib copied per platform."""
    factory = Factory(stack.source.url, lambda repo: "Bearer " + stack.tokens.mint([repo]))
    base_size = size_mib * (1 << 20) // 8 // 3  # an eighth of the set is shared base layers
    unique_size = size_mib * (1 << 20) * 7 // 8 // images
    bases: list[tuple[str, Pushed]] = []
    out = ArtifactSet()
    for i in range(images):
        repo = f"{NS}/app{i:02d}"
        if len(bases) < 3:
            bases.append((repo, factory.large_blob(repo, base_size)))
        base_repo, base = bases[i % 3]
        if base_repo != repo:
            _mount(stack, repo, base_repo, base.digest)
        amd64 = factory.image(repo, None, extra_layers=(base, factory.large_blob(repo, unique_size)), layer_sizes=())
        if i % 2:
            arm64 = factory.image(repo, None, platform="linux/arm64", layer_sizes=(1 << 20,))
            entries = [amd64.descriptor(platform={"os": "linux", "architecture": "amd64"}),
                       arm64.descriptor(platform={"os": "linux", "architecture": "arm64"})]
            factory.manifest(repo, "1", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX)
        else:
            factory.manifest(repo, "1", json.loads(_get_manifest(stack, repo, amd64.digest)), amd64.media_type)
        out.images.append(f"{repo}:1")
    return _with_charts(factory, out)


def seed_small(stack: Stack) -> ArtifactSet:
    """13 images with 0.5 to 7 MB application layers over two shared base layers (OCI indexes with
    attestations, Docker manifest lists, single images) and 2 charts: about 50 MB for linux/amd64."""
    factory = Factory(stack.source.url, lambda repo: "Bearer " + stack.tokens.mint([repo]))
    sizes = [500_000, 1 << 20, 2 << 20, 3 << 20, 5 << 20, 7 << 20]
    bases: list[tuple[str, Pushed]] = []
    out = ArtifactSet()
    for i in range(13):
        repo = f"{NS}/small{i:02d}"
        if len(bases) < 2:
            bases.append((repo, factory.large_blob(repo, 6 << 20)))
        base_repo, base = bases[i % 2]
        if base_repo != repo:
            _mount(stack, repo, base_repo, base.digest)
        layer = (sizes[i % len(sizes)],)
        if i % 3 == 0:
            factory.index(repo, "1", shared=(base,), layer_sizes=layer)
        elif i % 3 == 1:
            docker_base = Pushed(base.digest, base.size, DOCKER_LAYER)  # the same bytes, as a Docker list names them
            factory.index(repo, "1", fmt="docker", shared=(docker_base,), layer_sizes=layer)
        else:
            factory.image(repo, "1", shared=(base,), layer_sizes=layer)
        out.images.append(f"{repo}:1")
    return _with_charts(factory, out)


def _with_charts(factory: Factory, out: ArtifactSet) -> ArtifactSet:
    """Both sets end with the same two OCI charts."""
    for name in ("helm-nvcf-api", "gdn-streaming"):
        factory.chart(f"{NS}/{name}", "1.0.0")
        out.charts.append(f"{NS}/{name}:1.0.0")
    factory.close()
    return out


SKOPEO_CACHES = [Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb"),
                 Path.home() / ".local/share/containers/cache/blob-info-cache-v1.boltdb"]


def empty_caches(nvcf_cache: Path) -> None:
    """Before a cold run: no tool remembers anything of an earlier one."""
    for path in SKOPEO_CACHES:
        path.unlink(missing_ok=True)
    for path in sorted(nvcf_cache.rglob("*"), reverse=True) if nvcf_cache.exists() else []:
        path.unlink() if path.is_file() else path.rmdir()


def startup(runs: int = 20) -> tuple[float, float]:
    """Median seconds of ``nvcf-mirror --version`` and of a bare interpreter's start."""

    def median_of(command: list[str]) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    return median_of([sys.executable, "-m", "provider_helper", "--version"]), median_of([sys.executable, "-c", "pass"])


def change_one(stack: Stack, artifacts: ArtifactSet, size_mib: int, images: int) -> None:
    """New content under the first image's tag: one new unique layer."""
    factory = Factory(stack.source.url, lambda repo: "Bearer " + stack.tokens.mint([repo]))
    repo = artifacts.images[0].split(":")[0]
    layer = factory.large_blob(repo, size_mib * (1 << 20) * 7 // 8 // images, OCI_LAYER_RAW)
    factory.image(repo, "1", extra_layers=(layer,), layer_sizes=())
    factory.close()


def _mount(stack: Stack, repo: str, source_repo: str, digest: str) -> None:
    token = stack.tokens.mint([repo, source_repo])
    response = httpx.post(f"{stack.source.url}/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": source_repo},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text


def _get_manifest(stack: Stack, repo: str, digest: str) -> bytes:
    token = stack.tokens.mint([repo])
    return httpx.get(f"{stack.source.url}/v2/{repo}/manifests/{digest}", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/vnd.oci.image.manifest.v1+json"}).content


@dataclass
class Measure:
    seconds: float
    requests: int
    bytes_moved: int
    peak_rss_mib: float
    ok: bool


def run_measured(stack: Stack, commands: list[list[str]], env: dict[str, str]) -> Measure:
    before_requests, before_bytes = stack.requests(), stack.wan.bytes
    peak, ok = 0.0, True
    start = time.monotonic()
    peak_file = Path(tempfile.mktemp(prefix="nvcf-bench-peak-"))
    for command in commands:
        launcher = [sys.executable, "-m", "provider_helper.sandbox.measure", str(peak_file), *command]
        done = subprocess.run(launcher, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            ok = False
            print(f"  ! {' '.join(command[:4])} …: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        peak = max(peak, int(peak_file.read_text()) / 1024)
    peak_file.unlink(missing_ok=True)
    seconds = time.monotonic() - start
    time.sleep(0.2)  # let the registries flush their access logs
    return Measure(seconds, stack.requests() - before_requests, stack.wan.bytes - before_bytes, peak, ok)


def tools(stack: Stack, artifacts: ArtifactSet, work: Path) -> dict[str, object]:
    manifest = work / "bench-manifest.yaml"
    entries = [{"type": "image", "source": f"nvcr.io/{ref}", "group": "bench"} for ref in artifacts.images]
    entries += [{"type": "chart", "source": f"nvcr.io/{ref}", "group": "bench"} for ref in artifacts.charts]
    manifest.write_text(json.dumps({"apiVersion": "nvcf-mirror/v1", "groups": [{"name": "bench", "default": True}], "artifacts": entries}))
    sync = work / "sync.yaml"
    sync.write_text(json.dumps({stack.source_host: {"images": {r.split(":")[0]: ["1"] for r in artifacts.images}
                                                    | {r.split(":")[0]: ["1.0.0"] for r in artifacts.charts}, "tls-verify": False}}))
    skopeo = ["skopeo", "--override-os", "linux", "--override-arch", "amd64"]

    def nvcf_mirror(prefix: str) -> list[list[str]]:
        assert stack.target is not None
        return [[sys.executable, "-m", "provider_helper", "mirror", "--manifest", str(manifest), "--source-registry", stack.source_host,
                 "--target", f"{stack.target.host}/{prefix}"]]

    def skopeo_loop(prefix: str) -> list[list[str]]:
        assert stack.target is not None
        return [[*skopeo, "copy", "--authfile", str(stack.authfile), "--src-tls-verify=false", "--dest-tls-verify=false",
                 f"docker://{stack.source_host}/{ref}", f"docker://{stack.target.host}/{prefix}/{ref.split('/')[-1]}"]
                for ref in artifacts.images + artifacts.charts]

    def skopeo_sync(prefix: str) -> list[list[str]]:
        assert stack.target is not None
        return [[*skopeo, "sync", "--src", "yaml", "--dest", "docker", "--src-authfile", str(stack.authfile), "--dest-authfile",
                 str(stack.authfile), "--dest-tls-verify=false", str(sync), f"{stack.target.host}/{prefix}"]]

    return {"nvcf-mirror": nvcf_mirror, "skopeo copy loop": skopeo_loop, "skopeo sync": skopeo_sync}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["large", "small"], default="large", help="large: --images and --size-mib; small: 13 small images")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=1100, help="bytes copied per platform in a cold run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-wan", action="store_true", help="no delay, no bandwidth cap")
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--rate-mb-s", type=float, default=25.0, help="per connection")
    parser.add_argument("--tools", default="nvcf-mirror,skopeo copy loop,skopeo sync", help="comma-separated subset")
    parser.add_argument("--out", type=Path, default=HERE / "results" / f"{dt.date.today().isoformat()}.md")
    args = parser.parse_args()

    version_s, bare_s = startup()
    print(f"nvcf-mirror --version {version_s * 1000:.0f} ms, bare interpreter {bare_s * 1000:.0f} ms", file=sys.stderr)
    env = {**os.environ}
    with tempfile.TemporaryDirectory(prefix="nvcf-bench-") as tmp:
        work = Path(tmp)
        stack = Stack(work).start(not args.no_wan, args.rtt_ms, args.rate_mb_s)
        nvcf_cache = work / "nvcf-mirror-cache"
        env.update({"NGC_API_KEY": stack.key, "DOCKER_CONFIG": str(work / "docker"), "NVCF_MIRROR_CACHE_DIR": str(nvcf_cache)})
        try:
            print(f"seeding the {args.set} set …", file=sys.stderr)
            artifacts = seed(stack, args.images, args.size_mib) if args.set == "large" else seed_small(stack)
            contenders = tools(stack, artifacts, work)
            results: dict[tuple[str, str], list[Measure]] = {}
            chosen = [t.strip() for t in args.tools.split(",")]
            for name, commands in ((n, c) for n, c in contenders.items() if n in chosen):
                for run in range(args.runs):
                    stack.new_target()
                    prefix = f"{name.replace(' ', '-')}-{run}"
                    for case in CASES:
                        if case == "cold":
                            empty_caches(nvcf_cache)
                        if case == "one changed image":
                            change_one(stack, artifacts, args.size_mib if args.set == "large" else 16, args.images if args.set == "large" else 8)
                        measure = run_measured(stack, commands(f"{prefix}-b" if case == "new prefix" else prefix), env)
                        results.setdefault((case, name), []).append(measure)
                        print(f"  {case:18} {name:17} run {run + 1}: {measure.seconds:7.1f}s {measure.requests:6d} requests "
                              f"{measure.bytes_moved / 1e6:8.1f} MB {measure.peak_rss_mib:6.0f} MiB{'' if measure.ok else '  FAILED'}",
                              file=sys.stderr)
        finally:
            stack.stop()
    table = render(results, args, len(artifacts.images) + len(artifacts.charts), (version_s, bare_s))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)
    return 0


def render(results: dict[tuple[str, str], list[Measure]], args: argparse.Namespace, artifacts: int, start: tuple[float, float]) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    link = "no shaping (loopback)" if args.no_wan else f"{args.rtt_ms:.0f} ms RTT, {args.rate_mb_s:.0f} MB/s per connection"
    lines = [
        f"# nvcf-mirror benchmark, {dt.date.today().isoformat()}",
        "",
        f"Machine: {os.cpu_count()} cores, {memory:.0f} GiB memory. Link to the source: {link}.",
        (f"Set: {args.images} images (every other one a linux/amd64 + linux/arm64 index), 3 shared base layers, 2 Helm charts; "
         f"~{args.size_mib} MiB copied per cold run (linux/amd64)." if args.set == "large" else
         "Set: 13 images with 0.5 to 7 MB application layers over 2 shared 6 MiB base layers (OCI indexes with attestations, "
         "Docker manifest lists, single images), 2 Helm charts; about 50 MB for linux/amd64.")
        + f" Median of {args.runs} runs. Caches emptied before each cold run. Produced by `python bench/run.py --set {args.set}`.",
        "",
        f"Start-up: `nvcf-mirror --version` {start[0] * 1000:.0f} ms, a bare interpreter {start[1] * 1000:.0f} ms "
        f"(+{(start[0] - start[1]) * 1000:.0f} ms; medians of 20).",
        "",
        "| case | tool | wall time (s) | vs skopeo loop | registry requests | MB through the link | peak RSS (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case in CASES:
        loop = results.get((case, "skopeo copy loop"))
        baseline = statistics.median(m.seconds for m in loop) if loop else float("nan")
        for tool in ("nvcf-mirror", "skopeo copy loop", "skopeo sync"):
            runs = results.get((case, tool))
            if not runs:
                continue
            wall = statistics.median(m.seconds for m in runs)
            failed = "" if all(m.ok for m in runs) else " (failures)"
            lines.append(
                f"| {case} | {tool}{failed} | {wall:.{2 if wall < 10 else 1}f} | {baseline / wall:.1f}x | {statistics.median(m.requests for m in runs):.0f} "
                f"| {statistics.median(m.bytes_moved for m in runs) / 1e6:.0f} | {max(m.peak_rss_mib for m in runs):.0f} |"
            )
    warm = statistics.median(m.requests for m in results[("warm", "nvcf-mirror")])
    lines += ["", f"Warm nvcf-mirror: {warm / artifacts:.1f} registry requests per artifact ({artifacts} artifacts).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
