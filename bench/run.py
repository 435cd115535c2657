#!/usr/bin/env python3
"""nvcf-mirror against skopeo, on loopback and on a WAN-like link in one run: cold, warm,
one-changed-image and new-prefix runs, and one 1 GiB layer against a raw GET|PUT pipe.

    python bench/run.py --set small     # 13 small images over 2 shared base layers (the latency-bound shape)
    python bench/run.py                 # the large set: 20 images, ~1.1 GiB per platform
    python bench/run.py --runs 1 --links loopback --big-mib 0 --size-mib 300    # a quick look

Both links reach the same source registry: "loopback" through a proxy that only counts bytes,
"WAN" through one that adds a round-trip delay and caps each connection's rate. Cold runs start
with every tool's cache emptied (nvcf-mirror's blob locations and checked manifests, skopeo's
blob-info cache); "new prefix" copies into another prefix of the same target registry with the
caches the earlier runs left (a second cluster in the same account). The 1 GiB case talks to
the source directly, so the pipe's bound is the registries' own.

Run by hand, never in CI. Writes bench/results/<date>-<set>.md and prints the table.
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
from collections.abc import Callable
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
TOOLS = ("nvcf-mirror", "skopeo copy loop", "skopeo sync")
BIG_TOOLS = ("raw GET|PUT pipe", "nvcf-mirror", "skopeo copy")


@dataclass
class Stack:
    work: Path
    rtt_ms: float
    rate_mb_s: float
    key: str = "nvapi-bench-" + os.urandom(6).hex()
    password: str = "bench-" + os.urandom(6).hex()

    def start(self) -> Stack:
        self.tokens = TokenServer(api_key=self.key).start()
        self.source = LocalRegistry(
            self.work / "source", auth=token_auth(self.tokens, self.work / "source"), access_log=True
        ).start()
        self.links = {
            "loopback": WanProxy(self.source.port, shaped=False),
            "WAN": WanProxy(self.source.port, self.rtt_ms, self.rate_mb_s),
        }
        self.targets = 0
        self.target: LocalRegistry | None = None
        self.new_target()
        return self

    def source_host(self, link: str) -> str:
        """The source as a tool sees it through ``link``; "direct" is the registry itself."""
        return self.source.host if link == "direct" else f"127.0.0.1:{self.links[link].port}"

    def new_target(self) -> None:
        """An empty target registry, so no tool can mount blobs left by another's run."""
        if self.target is not None:
            self.target.stop()
            self.retired_requests = getattr(self, "retired_requests", 0) + _lines(self.target.log_path)
        self.targets += 1
        folder = self.work / f"target{self.targets}"
        self.target = LocalRegistry(folder, auth=htpasswd_auth({"AWS": self.password}, folder), access_log=True).start()
        source_auth = {"auth": base64.b64encode(f"$oauthtoken:{self.key}".encode()).decode()}
        auth = dict.fromkeys(
            (self.source_host("direct"), *(self.source_host(link) for link in self.links)), source_auth
        )
        auth[self.target.host] = {"auth": base64.b64encode(f"AWS:{self.password}".encode()).decode()}
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

    def link_bytes(self) -> int:
        return sum(proxy.bytes for proxy in self.links.values())


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if b'HTTP/1.1"' in line)


@dataclass
class ArtifactSet:
    images: list[str] = field(default_factory=list)  # repo:tag
    charts: list[str] = field(default_factory=list)


def seed(stack: Stack, images: int, size_mib: int) -> ArtifactSet:
    """``images`` images (half of them multi-arch), three shared base layers, two charts: ~size_mib copied
    per platform."""
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
            entries = [
                amd64.descriptor(platform={"os": "linux", "architecture": "amd64"}),
                arm64.descriptor(platform={"os": "linux", "architecture": "arm64"}),
            ]
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


SKOPEO_CACHES = [
    Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb"),
    Path.home() / ".local/share/containers/cache/blob-info-cache-v1.boltdb",
]


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
    response = httpx.post(
        f"{stack.source.url}/v2/{repo}/blobs/uploads/",
        params={"mount": digest, "from": source_repo},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text


def _get_manifest(stack: Stack, repo: str, digest: str) -> bytes:
    token = stack.tokens.mint([repo])
    return httpx.get(
        f"{stack.source.url}/v2/{repo}/manifests/{digest}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.oci.image.manifest.v1+json"},
    ).content


@dataclass
class Measure:
    seconds: float
    requests: int
    bytes_moved: int
    peak_rss_mib: float
    ok: bool


def run_measured(stack: Stack, commands: list[list[str]], env: dict[str, str]) -> Measure:
    """Run the commands one after the other; peak RSS is the largest of them (0 for a shell pipe)."""
    before_requests, before_bytes = stack.requests(), stack.link_bytes()
    peak, ok = 0.0, True
    start = time.monotonic()
    peak_file = Path(tempfile.mktemp(prefix="nvcf-bench-peak-"))
    for command in commands:
        launcher = [sys.executable, "-m", "provider_helper.sandbox.measure", str(peak_file), *command]
        done = subprocess.run(launcher, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            ok = False
            print(f"  ! {' '.join(command[:4])} …: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        peak = max(peak, int(peak_file.read_text()) / 1024 if command[0] != "sh" else 0.0)
    peak_file.unlink(missing_ok=True)
    seconds = time.monotonic() - start
    time.sleep(0.2)  # let the registries flush their access logs
    return Measure(seconds, stack.requests() - before_requests, stack.link_bytes() - before_bytes, peak, ok)


def write_manifest(path: Path, artifacts: ArtifactSet) -> Path:
    entries = [{"type": "image", "source": f"nvcr.io/{ref}", "group": "bench"} for ref in artifacts.images]
    entries += [{"type": "chart", "source": f"nvcr.io/{ref}", "group": "bench"} for ref in artifacts.charts]
    path.write_text(
        json.dumps(
            {"apiVersion": "nvcf-mirror/v1", "groups": [{"name": "bench", "default": True}], "artifacts": entries}
        )
    )
    return path


SKOPEO = ["skopeo", "--override-os", "linux", "--override-arch", "amd64"]
Commands = Callable[[str], list[list[str]]]  # a target prefix -> the commands that copy the set there


def tools(stack: Stack, artifacts: ArtifactSet, work: Path, link: str) -> dict[str, Commands]:
    source = stack.source_host(link)
    manifest = write_manifest(work / "bench-manifest.yaml", artifacts)
    sync = work / f"sync-{link}.yaml"
    sync.write_text(
        json.dumps(
            {
                source: {
                    "images": {r.split(":")[0]: ["1"] for r in artifacts.images}
                    | {r.split(":")[0]: ["1.0.0"] for r in artifacts.charts},
                    "tls-verify": False,
                }
            }
        )
    )

    def target(prefix: str) -> str:
        assert stack.target is not None
        return f"{stack.target.host}/{prefix}"

    def nvcf_mirror(prefix: str) -> list[list[str]]:
        return [
            [
                sys.executable,
                "-m",
                "provider_helper",
                "--quiet",
                "mirror",
                "--manifest",
                str(manifest),
                "--source-registry",
                source,
                "--target",
                target(prefix),
            ]
        ]

    def skopeo_loop(prefix: str) -> list[list[str]]:
        return [
            [
                *SKOPEO,
                "copy",
                "--authfile",
                str(stack.authfile),
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                f"docker://{source}/{ref}",
                f"docker://{target(prefix)}/{ref.split('/')[-1]}",
            ]
            for ref in artifacts.images + artifacts.charts
        ]

    def skopeo_sync(prefix: str) -> list[list[str]]:
        return [
            [
                *SKOPEO,
                "sync",
                "--src",
                "yaml",
                "--dest",
                "docker",
                "--src-authfile",
                str(stack.authfile),
                "--dest-authfile",
                str(stack.authfile),
                "--dest-tls-verify=false",
                str(sync),
                target(prefix),
            ]
        ]

    return {"nvcf-mirror": nvcf_mirror, "skopeo copy loop": skopeo_loop, "skopeo sync": skopeo_sync}


def big_tools(stack: Stack, work: Path, layer: Pushed) -> dict[str, Commands]:
    """One image with a single large layer, straight from the source registry: the physical bound
    is a GET of the layer piped into a PUT of it (curl to curl), which moves nothing else."""
    repo = f"{NS}/big"
    manifest = write_manifest(work / "big-manifest.yaml", ArtifactSet(images=[f"{repo}:1"]))

    def pipe(prefix: str) -> list[list[str]]:
        """curl reads its URL and credentials from config files, so none is on a command line."""
        assert stack.target is not None
        started = httpx.post(f"{stack.target.url}/v2/{prefix}/big/blobs/uploads/", auth=("AWS", stack.password))
        started.raise_for_status()
        location = (
            httpx.URL(stack.target.url).join(started.headers["location"]).copy_merge_params({"digest": layer.digest})
        )
        get, put = work / "get.curl", work / "put.curl"
        for path, text in (
            (
                get,
                f'url = "{stack.source.url}/v2/{repo}/blobs/{layer.digest}"\n'
                f'header = "Authorization: Bearer {stack.tokens.mint([repo])}"\n',
            ),
            (put, f'url = "{location}"\nuser = "AWS:{stack.password}"\n'),
        ):
            path.touch(mode=0o600)
            path.write_text(text)
        script = f'curl -sSf -K {get} | curl -sSf -K {put} -X PUT -H "Content-Type: application/octet-stream" -T -'
        return [["sh", "-c", script]]

    def nvcf_mirror(prefix: str) -> list[list[str]]:
        assert stack.target is not None
        return [
            [
                sys.executable,
                "-m",
                "provider_helper",
                "--quiet",
                "mirror",
                "--manifest",
                str(manifest),
                "--source-registry",
                stack.source_host("direct"),
                "--target",
                f"{stack.target.host}/{prefix}",
            ]
        ]

    def skopeo_copy(prefix: str) -> list[list[str]]:
        assert stack.target is not None
        return [
            [
                *SKOPEO,
                "copy",
                "--authfile",
                str(stack.authfile),
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                f"docker://{stack.source_host('direct')}/{repo}:1",
                f"docker://{stack.target.host}/{prefix}/big:1",
            ]
        ]

    return {"raw GET|PUT pipe": pipe, "nvcf-mirror": nvcf_mirror, "skopeo copy": skopeo_copy}


def seed_big(stack: Stack, size_mib: int) -> Pushed:
    factory = Factory(stack.source.url, lambda repo: "Bearer " + stack.tokens.mint([repo]))
    layer = factory.large_blob(f"{NS}/big", size_mib << 20)
    factory.image(f"{NS}/big", "1", extra_layers=(layer,), layer_sizes=())
    factory.close()
    return layer


Results = dict[tuple[str, str, str], list[Measure]]  # (link, case, tool) -> runs


def report(link: str, case: str, tool: str, run: int, measure: Measure) -> None:
    print(
        f"  {link:8} {case:18} {tool:17} run {run + 1}: {measure.seconds:7.2f}s {measure.requests:6d} requests "
        f"{measure.bytes_moved / 1e6:8.1f} MB {measure.peak_rss_mib:6.0f} MiB{'' if measure.ok else '  FAILED'}",
        file=sys.stderr,
    )


def bench_set(
    stack: Stack, args: argparse.Namespace, artifacts: ArtifactSet, work: Path, env: dict[str, str], results: Results
) -> None:
    nvcf_cache = Path(env["NVCF_MIRROR_CACHE_DIR"])
    chosen = [t.strip() for t in args.tools.split(",")]
    for link in args.links.split(","):
        contenders = tools(stack, artifacts, work, link)
        for name in (n for n in TOOLS if n in chosen):
            for run in range(args.runs):
                stack.new_target()
                prefix = f"{link.lower()}-{name.replace(' ', '-')}-{run}"
                for case in CASES:
                    if case == "cold":
                        empty_caches(nvcf_cache)
                    if case == "one changed image":
                        change_one(
                            stack,
                            artifacts,
                            args.size_mib if args.set == "large" else 16,
                            args.images if args.set == "large" else 8,
                        )
                    measure = run_measured(
                        stack, contenders[name](f"{prefix}-b" if case == "new prefix" else prefix), env
                    )
                    results.setdefault((link, case, name), []).append(measure)
                    report(link, case, name, run, measure)


def bench_big(stack: Stack, args: argparse.Namespace, work: Path, env: dict[str, str], results: Results) -> None:
    print(f"seeding one {args.big_mib} MiB layer …", file=sys.stderr)
    contenders = big_tools(stack, work, seed_big(stack, args.big_mib))
    for run in range(args.runs):
        for name, commands in contenders.items():
            stack.new_target()
            empty_caches(Path(env["NVCF_MIRROR_CACHE_DIR"]))
            measure = run_measured(stack, commands(f"big-{run}"), env)
            results.setdefault(("direct", f"{args.big_mib} MiB layer", name), []).append(measure)
            report("direct", f"{args.big_mib} MiB layer", name, run, measure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--set",
        choices=["large", "small"],
        default="large",
        help="large: --images and --size-mib; small: 13 small images",
    )
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=1100, help="bytes copied per platform in a cold run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--links", default="loopback,WAN", help="comma-separated: loopback, WAN")
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--rate-mb-s", type=float, default=25.0, help="per connection")
    parser.add_argument(
        "--big-mib", type=int, default=1024, help="the single-layer case against a raw GET|PUT pipe; 0 skips it"
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-{args.set}.md"

    # What a user's install pays: the bytecode scripts/bootstrap.sh compiles (as `pip install .` does),
    # nothing compiled by the bench itself, so a missing compile shows in the start-up figure.
    version_s, bare_s = startup()
    print(f"nvcf-mirror --version {version_s * 1000:.0f} ms, bare interpreter {bare_s * 1000:.0f} ms", file=sys.stderr)
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="nvcf-bench-") as tmp:
        work = Path(tmp)
        stack = Stack(work, args.rtt_ms, args.rate_mb_s).start()
        env = {
            **os.environ,
            "NGC_API_KEY": stack.key,
            "DOCKER_CONFIG": str(work / "docker"),
            "NVCF_MIRROR_CACHE_DIR": str(work / "nvcf-cache"),
        }
        try:
            print(f"seeding the {args.set} set …", file=sys.stderr)
            artifacts = seed(stack, args.images, args.size_mib) if args.set == "large" else seed_small(stack)
            bench_set(stack, args, artifacts, work, env, results)
            if args.big_mib:
                bench_big(stack, args, work, env, results)
        finally:
            stack.stop()
    table = render(results, args, len(artifacts.images) + len(artifacts.charts), (version_s, bare_s))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    print(table)
    return 0


# The targets: (set, link, case, most time against the skopeo loop); "any" set applies to both.
TARGETS = [
    ("small", "WAN", "cold", 0.25),
    ("small", "loopback", "cold", 0.5),
    ("small", "loopback", "warm", 0.5),
    ("small", "WAN", "warm", 0.1),
    ("small", "loopback", "new prefix", 0.5),
    ("small", "WAN", "new prefix", 0.5),
    ("large", "WAN", "cold", 1 / 3.6),
]


def _median(runs: list[Measure], key: Callable[[Measure], float]) -> float:
    return statistics.median(key(m) for m in runs)


def render(results: Results, args: argparse.Namespace, artifacts: int, start: tuple[float, float]) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    lines = [
        f"# nvcf-mirror benchmark, {dt.date.today().isoformat()}, {args.set} set",
        "",
        f"Machine: {os.cpu_count()} cores, {memory:.0f} GiB memory. Links to the source: "
        + ", ".join(
            {
                "loopback": "loopback (a proxy that counts bytes)",
                "WAN": f"WAN ({args.rtt_ms:.0f} ms RTT, {args.rate_mb_s:.0f} MB/s per connection)",
            }[link]
            for link in args.links.split(",")
        )
        + ".",
        (
            f"Set: {args.images} images (every other one a linux/amd64 + linux/arm64 index), 3 shared base layers, "
            f"2 Helm charts; ~{args.size_mib} MiB copied per cold run (linux/amd64)."
            if args.set == "large"
            else "Set: 13 images with 0.5 to 7 MB application layers over 2 shared 6 MiB base layers "
            "(OCI indexes with attestations, Docker manifest lists, single images), 2 Helm charts; "
            "about 50 MB for linux/amd64."
        )
        + f" Median of {args.runs} runs. Caches emptied before each cold run. "
        f"Produced by `python bench/run.py --set {args.set}`.",
        "",
        f"Start-up: `nvcf-mirror --version` {start[0] * 1000:.0f} ms, a bare interpreter {start[1] * 1000:.0f} ms "
        f"(+{(start[0] - start[1]) * 1000:.0f} ms; medians of 20).",
        "",
        "| link | case | tool | wall time (s) | time / skopeo loop | registry requests | MB through the link "
        "| peak RSS (MiB) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    cases = list(dict.fromkeys((link, case) for link, case, _ in results))
    for link, case in cases:
        loop = results.get((link, case, "skopeo copy loop")) or results.get((link, case, "raw GET|PUT pipe"))
        baseline = _median(loop, lambda m: m.seconds) if loop else float("nan")
        for tool in BIG_TOOLS if link == "direct" else TOOLS:
            runs = results.get((link, case, tool))
            if not runs:
                continue
            wall = _median(runs, lambda m: m.seconds)
            failed = "" if all(m.ok for m in runs) else " (failures)"
            moved = "n/a" if link == "direct" else f"{_median(runs, lambda m: m.bytes_moved) / 1e6:.0f}"
            peak = max(m.peak_rss_mib for m in runs)
            rss = f"{peak:.0f}" if peak else "n/a"  # a shell pipe is not measured
            lines.append(
                f"| {link} | {case} | {tool}{failed} | {wall:.{2 if wall < 10 else 1}f} | {wall / baseline:.2f}x "
                f"| {_median(runs, lambda m: m.requests):.0f} | {moved} | {rss} |"
            )
    lines += [
        "",
        "For the single-layer case the ratio column is against the raw GET|PUT pipe.",
        "",
        "## Against the targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    for target_set, link, case, most in TARGETS:
        ours, loop = results.get((link, case, "nvcf-mirror")), results.get((link, case, "skopeo copy loop"))
        if target_set == args.set and ours and loop:
            ratio = _median(ours, lambda m: m.seconds) / _median(loop, lambda m: m.seconds)
            verdict = (
                "**failed runs**" if not all(m.ok for m in ours + loop) else "met" if ratio <= most else "**missed**"
            )
            lines.append(f"| {link} {case}: at most {most:.2f}x the skopeo loop | {ratio:.2f}x | {verdict} |")
    extra = start[0] - start[1]
    lines.append(
        f"| `--version` within 0.1 s of a bare interpreter | +{extra * 1000:.0f} ms "
        f"| {'met' if extra <= 0.1 else '**missed**'} |"
    )
    big = [k for k in results if k[0] == "direct"]
    if big:
        _, case, _ = big[0]
        ours, pipe = results[("direct", case, "nvcf-mirror")], results[("direct", case, "raw GET|PUT pipe")]
        ratio = _median(ours, lambda m: m.seconds) / _median(pipe, lambda m: m.seconds)
        peak_mb = max(m.peak_rss_mib for m in ours) * 1.048576
        verdict = "**failed runs**" if not all(m.ok for m in ours + pipe) else "met" if ratio <= 1.3 else "**missed**"
        lines.append(f"| {case}: at most 1.3x the raw pipe | {ratio:.2f}x | {verdict} |")
        lines.append(
            f"| {case}: peak RSS at most 150 MB | {peak_mb:.0f} MB | {'met' if peak_mb <= 150 else '**missed**'} |"
        )
    warm = results.get((args.links.split(",")[0], "warm", "nvcf-mirror"))
    if warm:
        lines += [
            "",
            f"Warm nvcf-mirror: {_median(warm, lambda m: m.requests) / artifacts:.1f} registry requests per artifact "
            f"({artifacts} artifacts).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
