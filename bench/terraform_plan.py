#!/usr/bin/env python3
"""What a user waits for in `terraform plan`: the module's share against the AWS provider's.

    python bench/terraform_plan.py              # 5 warm plans each way: bench/results/<date>-terraform.md
    python bench/terraform_plan.py --runs 3

The small set of bench/run.py (13 images over shared base layers and 2 charts) in an nvcr.io-like
source, moto as the ECR API and a registry as its data plane, the real Terraform on PATH with the
HashiCorp AWS provider (from this machine's filesystem mirror when the Terraform registry cannot be
reached). One root module calls terraform/modules/nvcf-mirror; after one apply (a warm target) it
measures:

- `terraform plan` with `create_sm_ecr_repos = true`, its wall time;
- the time inside each external data source process (`plan`, `status`), from a wrapper named as
  the module's `python` that times the interpreter it runs;
- the same root with `create_sm_ecr_repos = false`: the baseline (the AWS provider alone).

Run by hand, never in CI, on a machine doing nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import seed_small, write_manifest

from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.stack import Sandbox
from provider_helper.sandbox.tfproviders import moto_provider_block, offline_cli_config
from provider_helper.sandbox.walkthrough import registry_reachable

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "terraform" / "modules" / "nvcf-mirror"

# Stands in for the module's `python`: runs the real interpreter and logs "<mode> <seconds>" per run.
TIMED_PYTHON = """#!{python}
import json, subprocess, sys, time
query = sys.stdin.read() if sys.argv[1:2] == ["-c"] else ""
start = time.perf_counter()
done = subprocess.run([{python!r}, *sys.argv[1:]], input=query, text=True)
mode = json.loads(query).get("mode", "?") if query else "apply-step"
with open({log!r}, "a") as log:
    log.write(f"{{mode}} {{time.perf_counter() - start:.3f}}\\n")
sys.exit(done.returncode)
"""

ROOT_MODULE = """{provider}
variable "enabled" {{
  type = bool
}}

module "nvcf_mirror" {{
  source              = "{module}"
  create_sm_ecr_repos = var.enabled
  cluster_name        = "bench"
  aws_region          = "{region}"
  manifest_path       = "{manifest}"
  python              = "{python}"
  source_registry     = "{source}"
  target_registry     = "{target}"
}}

output "image_uris" {{
  value = module.nvcf_mirror.image_uris
}}
"""


def terraform(root: Path, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(["terraform", *args, "-no-color"], cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"terraform {args[0]} exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / f"{time.strftime('%Y-%m-%d')}-terraform.md"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nvcf-bench-tf-") as tmp:
        work = Path(tmp)
        stack = Sandbox(work / "stand-ins").start()
        try:
            artifacts = seed_small(stack)  # type: ignore[arg-type]  # the sandbox has the source and token server it uses
            manifest = write_manifest(work / "manifest.json", artifacts)
            log = work / "data-sources.log"
            wrapper = work / "timed-python"
            wrapper.write_text(TIMED_PYTHON.format(python=sys.executable, log=str(log)))
            wrapper.chmod(0o755)
            root = work / "root"
            root.mkdir()
            (root / "main.tf").write_text(
                ROOT_MODULE.format(
                    provider=moto_provider_block(REGION),
                    region=REGION,
                    module=MODULE,
                    manifest=manifest,
                    python=wrapper,
                    source=stack.source.host,
                    target=stack.target.host,
                )
            )
            env = {**os.environ, **stack.ecr_env(), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
            if not registry_reachable():
                env["TF_CLI_CONFIG_FILE"] = str(offline_cli_config(work / "providers"))
            terraform(root, env, "init", "-input=false")
            terraform(root, env, "apply", "-input=false", "-auto-approve", "-var", "enabled=true")
            on, off, gogc, modes = [], [], [], {"plan": [], "status": []}
            for _ in range(args.runs):
                log.write_text("")
                on.append(terraform(root, env, "plan", "-input=false", "-detailed-exitcode", "-var", "enabled=true"))
                for line in log.read_text().splitlines():  # the GOGC=400 plan's below are not counted
                    mode, seconds = line.split()
                    modes.setdefault(mode, []).append(float(seconds))
                off.append(terraform(root, env, "plan", "-input=false", "-var", "enabled=false", ok=(0, 2)))
                gogc.append(
                    terraform(
                        root,
                        {**env, "GOGC": "400"},
                        "plan",
                        "-input=false",
                        "-detailed-exitcode",
                        "-var",
                        "enabled=true",
                    )
                )
            text = render(args.runs, len(artifacts.images) + len(artifacts.charts), on, off, gogc, modes)
        finally:
            stack.stop()
    args.out.write_text(text)
    print(text)
    return 0


def render(
    runs: int, count: int, on: list[float], off: list[float], gogc: list[float], modes: dict[str, list[float]]
) -> str:
    median = statistics.median
    share = median(modes["plan"]) + median(modes["status"])
    return "\n".join(
        [
            f"# terraform plan with the nvcf-mirror module ({time.strftime('%Y-%m-%d')})",
            "",
            f"`bench/terraform_plan.py`: the small set ({count} artifacts) at a warm target, "
            "loopback registries, moto as",
            f"the ECR API, terraform {_version()} with the HashiCorp AWS provider; medians of {runs} plans each.",
            "",
            "| what | seconds |",
            "|---|---|",
            f"| `terraform plan`, `create_sm_ecr_repos = true` (no changes) | {median(on):.2f} |",
            "| `terraform plan`, `create_sm_ecr_repos = false` (baseline: the AWS provider and Terraform alone) "
            f"| {median(off):.2f} |",
            f"| `terraform plan`, `create_sm_ecr_repos = true`, `GOGC=400` | {median(gogc):.2f} |",
            f"| inside the `plan` data source (sources resolved) | {median(modes['plan']):.2f} |",
            f"| inside the `status` data source (digests at the target) | {median(modes['status']):.2f} |",
            f"| both data sources (target: at most 1 s) | {share:.2f} |",
            "",
        ]
    )


def _version() -> str:
    done = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True)
    try:
        return str(json.loads(done.stdout)["terraform_version"])
    except (ValueError, KeyError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
