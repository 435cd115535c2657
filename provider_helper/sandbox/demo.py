"""The README's first command: mirror the bundled NVCF manifest between local registries.

Starts an nvcr.io-like source (token auth, seeded with stand-ins for every artifact of the
default groups), moto server as the ECR API and a registry as ECR's data plane, runs
``nvcf-mirror mirror --target-type ecr --create-repos`` exactly as a user would, and prints the
digests that landed.
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
from provider_helper.sandbox.stack import Sandbox, seed

PREFIX = "nvcf-self-hosted"


def main() -> int:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="nvcf-mirror-demo-") as tmp:
        stack = Sandbox(Path(tmp)).start()
        try:
            artifacts = manifest.load().select()
            console.print(f"[bold]seeding[/] {len(artifacts)} NVCF-like artifacts into the local source registry {stack.source.host}")
            factory = stack.source_factory()
            seed(factory, artifacts)
            factory.close()
            result = Path(tmp) / "result.json"
            command = [
                sys.executable, "-m", "provider_helper", "--quiet", "mirror",
                "--source-registry", stack.source.host,
                "--target", f"{stack.target.host}/{PREFIX}", "--target-type", "ecr", "--create-repos",
                "--result-file", str(result),
            ]
            console.print(f"with NGC_API_KEY set to the sandbox's key and AWS_ENDPOINT_URL_ECR={stack.aws.url} (moto server as the ECR API), running:")
            console.print(f"$ nvcf-mirror {shlex.join(command[3:])}", markup=False, highlight=False, soft_wrap=True)  # one line: copyable
            done = subprocess.run(command, env={**os.environ, **stack.ecr_env()}, check=False)
            doc = json.loads(result.read_text())
        finally:
            stack.stop()
    console.print(f"[bold]mirrored to {doc['target']}[/]")
    for entry in doc["artifacts"]:
        where = f"{entry['target']}@{entry['digest']}" if entry["digest"] else f"{entry['target']}: {entry['error']}"
        console.print(f"{entry['status']:8} {where}", highlight=False, soft_wrap=True)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
