"""The README's first command: mirror the bundled NVCF manifest between local registries.

Starts an nvcr.io-like source (token auth, seeded with stand-ins for every artifact of the
default groups), moto server as the ECR API and a registry as ECR's data plane, runs
``nvcf-mirror mirror --target-type ecr --create-repos`` exactly as a user would, and prints the
digests that landed; then ``nvcf-mirror resources download --dest ./ngc --extract`` against an NGC API
stand-in, and what it wrote.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from provider_helper import manifest
from provider_helper.sandbox.stack import Sandbox, seed, seed_resources

PREFIX = "nvcf-self-hosted"


def main() -> int:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="nvcf-mirror-demo-") as tmp:
        stack = Sandbox(Path(tmp)).start()
        try:
            artifacts = manifest.load().select()
            console.print(
                f"[bold]seeding[/] {len(artifacts)} NVCF-like artifacts into the local source registry "
                f"{stack.source.host}"
            )
            factory = stack.source_factory()
            seed(factory, artifacts)
            factory.close()
            result = Path(tmp) / "result.json"
            command = [
                sys.executable,
                "-m",
                "provider_helper",
                "--quiet",
                "mirror",
                "--source-registry",
                stack.source.host,
                "--target",
                f"{stack.target.host}/{PREFIX}",
                "--target-type",
                "ecr",
                "--create-repos",
                "--result-file",
                str(result),
            ]
            console.print(
                f"with NGC_API_KEY set to the sandbox's key and AWS_ENDPOINT_URL_ECR={stack.aws.url} "
                "(moto server as the ECR API), the demo runs the command below. Its stand-ins stop when the "
                "demo ends, so it shows what a run looks like; against your registries, drop "
                "--source-registry and name your own --target (examples/local/run.sh --pause keeps "
                "stand-ins up for you to try the CLI):"
            )
            console.print(f"$ nvcf-mirror {shlex.join(command[3:])}", markup=False, highlight=False, soft_wrap=True)
            done = subprocess.run(command, env={**os.environ, **stack.ecr_env()}, check=False)
            doc = json.loads(result.read_text())
            console.print(f"[bold]mirrored to {doc['target']}[/]")
            for entry in doc["artifacts"]:
                at = f"@{entry['digest']}" if entry["digest"] else f": {entry['error']}"
                where = f"{entry['target']}{at}"
                console.print(f"{entry['status']:8} {where}", highlight=False, soft_wrap=True)
            resources = download_resources(console, stack, Path(tmp))
        finally:
            stack.stop()
    return done.returncode or resources


def download_resources(console: Console, stack: Sandbox, workdir: Path) -> int:
    """The README's ``resources download --dest ./ngc --extract`` against the NGC API stand-in; shows what it wrote."""
    published = seed_resources(stack.ngc, manifest.load().select(all_groups=True))
    console.print(
        f"\n[bold]NGC resources[/]: {', '.join(published)} published by the NGC API stand-in "
        f"{stack.ngc.url}; running, in the demo's temporary folder (removed when it ends):"
    )
    command = [
        sys.executable,
        "-m",
        "provider_helper",
        "--quiet",
        "resources",
        "download",
        "--dest",
        "./ngc",
        "--extract",
    ]
    console.print(f"$ nvcf-mirror {shlex.join(command[3:])}", markup=False, highlight=False, soft_wrap=True)
    done = subprocess.run(command, cwd=workdir, env={**os.environ, **stack.ecr_env(), **stack.ngc_env()}, check=False)
    for top in sorted((workdir / "ngc").iterdir()) if (workdir / "ngc").is_dir() else []:
        inside = sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file())
        console.print(f"  ./ngc/{top.name}/: {', '.join(inside)}", highlight=False, soft_wrap=True)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
