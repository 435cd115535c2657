"""examples/local end to end with one command: the local stand-ins, then Terraform as a user runs it.

Starts an nvcr.io-like source (token auth, seeded with stand-ins for the default NVCF artifacts),
moto server as the ECR API and a registry as ECR's data plane, an NGC API stand-in (the NGC
resources), and keeps them up while it runs, in a copy of examples/local: ``terraform init``,
``plan``, ``apply`` of that plan, a second ``plan`` (which must show no changes), ``output`` and
``destroy``; then stops what it started. Each command is printed as it can be typed. ``--pause``
waits after the apply, with the stand-ins up, so you can try the CLI or Terraform yourself (what to
export goes into a file only you can read, with example commands: ``write_stand_ins_env``).

Where the Terraform registry cannot be reached, providers come from this machine: hashicorp/aws
from a filesystem mirror, hashicorp/external from a stand-in (``provider_helper.sandbox.tfproviders``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from provider_helper import manifest
from provider_helper.errors import InputError
from provider_helper.sandbox.stack import Sandbox, seed, seed_resources
from provider_helper.sandbox.tfproviders import offline_cli_config

EXAMPLE = Path("examples") / "local"
TERRAFORM_REGISTRY = ("registry.terraform.io", 443)


def registry_reachable() -> bool:
    try:
        socket.create_connection(TERRAFORM_REGISTRY, timeout=3).close()
    except OSError:
        return False
    return True


def copy_example(repo: Path, into: Path) -> Path:
    """examples/local and the module it calls, keeping their relative paths; nothing is written into the repository."""
    for tree in (Path("terraform"), EXAMPLE):
        shutil.copytree(
            repo / tree, into / tree, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfvars")
        )
    return into / EXAMPLE


# What examples/local/README.md shows after `. stand-ins.env` (tests/test_walkthrough.py runs these lines).
CLI_EXAMPLE = "\n".join(
    [
        '  nvcf-mirror plan   --source-registry "$SOURCE_REGISTRY" --target "$TARGET_REGISTRY/nvcf-local"',
        '  nvcf-mirror verify --source-registry "$SOURCE_REGISTRY" --target "$TARGET_REGISTRY/nvcf-local" '
        "--target-type ecr",
        '  nvcf-mirror mirror --source-registry "$SOURCE_REGISTRY" --target "$TARGET_REGISTRY/by-hand" '
        "--target-type ecr --create-repos",
        "  nvcf-mirror resources download --dest ./ngc --extract",
    ]
)

DESTROY_NOTE = (
    "\nmoto's ECR API does not see the images the registry stand-in holds, so the destroy below deletes "
    "every repository. Real ECR refuses to delete a repository that holds images "
    "(RepositoryNotEmptyException) and the destroy stops there, unless the module has "
    "delete_repositories_on_destroy = true."
)


def write_stand_ins_env(path: Path, stack: Sandbox, extra: Mapping[str, str]) -> Path:
    """Everything a shell needs to use the stand-ins with the CLI or Terraform: the source and target hosts,
    nvcf-mirror on PATH, the NGC key and the AWS variables for the loopback ECR stand-in (its host is a
    loopback address, not an ECR host name: the CLI needs --target-type ecr) and the NGC API stand-in's URLs.
    Readable by its owner only."""
    exports = {
        "SOURCE_REGISTRY": stack.source.host,
        "TARGET_REGISTRY": stack.target.host,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        **stack.ecr_env(),
        **stack.ngc_env(),
        **extra,
    }
    path.touch(mode=0o600)
    lines = [
        "# the stand-ins of examples/local/run.sh --pause: source (nvcr.io-like, token auth), "
        "target (ECR's data plane; moto is its API)\n",
        *(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items()),
        "# then, for example (a loopback target is ECR only with --target-type ecr):\n",
        *(f"#{line}\n" for line in CLI_EXAMPLE.splitlines()),
    ]
    path.write_text("".join(lines))
    return path


class Steps:
    """Runs and prints the commands of the walk-through."""

    def __init__(self, console: Console, terraform: str, cwd: Path, env: Mapping[str, str]) -> None:
        self.console, self.terraform, self.cwd, self.env = console, terraform, cwd, dict(env)

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> int:
        self.console.print(f"\n[bold]$ terraform {shlex.join(args)}[/]", highlight=False, soft_wrap=True)
        code = subprocess.run([self.terraform, *args], cwd=self.cwd, env=self.env, check=False).returncode
        if code not in ok:
            raise SystemExit(f"walkthrough: terraform {args[0]} exited {code}")
        return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="examples/local/run.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repo", type=Path, default=Path.cwd(), help="the nvcf-mirror checkout (default: the current directory)"
    )
    parser.add_argument(
        "--terraform", default=shutil.which("terraform"), help="the terraform binary (default: the one on PATH)"
    )
    parser.add_argument(
        "--pause", action="store_true", help="wait after apply, with the stand-ins up, until Enter is pressed"
    )
    args = parser.parse_args(argv)
    console = Console()
    if not args.terraform:
        console.print("walkthrough: terraform is not on PATH: install Terraform >= 1.5 (or pass --terraform)")
        return 2
    with tempfile.TemporaryDirectory(prefix="nvcf-mirror-local-") as tmp:
        work = Path(tmp)
        stack = Sandbox(work / "stand-ins").start()
        try:
            return walk(console, args, work, stack)
        except InputError as exc:
            console.print(f"walkthrough: {exc}")
            return 2
        finally:
            stack.stop()
            console.print("\nstopped the local stand-ins")


def walk(console: Console, args: argparse.Namespace, work: Path, stack: Sandbox) -> int:
    artifacts = manifest.load().select()
    console.print(
        f"[bold]local stand-ins up[/]: source {stack.source.host} (token auth), target {stack.target.host}, "
        f"ECR API (moto) {stack.aws.url}"
    )
    factory = stack.source_factory()
    seed(factory, artifacts)
    factory.close()
    console.print(f"seeded {len(artifacts)} NVCF-like artifacts of the default groups into {stack.source.host}")
    published = seed_resources(stack.ngc, manifest.load().select(all_groups=True))
    console.print(f"NGC API stand-in {stack.ngc.url} publishes {len(published)} resources for resources download")

    env = {**os.environ, **stack.ecr_env(), "CHECKPOINT_DISABLE": "1"}
    if registry_reachable():
        console.print("the Terraform registry answers: providers are downloaded by terraform init")
    else:
        env["TF_CLI_CONFIG_FILE"] = str(offline_cli_config(work / "providers"))
        console.print(
            f"no Terraform registry here: providers from this machine (TF_CLI_CONFIG_FILE={env['TF_CLI_CONFIG_FILE']})"
        )

    example = copy_example(args.repo.resolve(), work / "repo")
    (example / "terraform.tfvars").write_text(
        f'source_registry = "{stack.source.host}"\ntarget_registry = "{stack.target.host}"\n'
        f'python          = "{sys.executable}"\n'
    )
    console.print(
        f"\n[bold]in {example}[/], terraform.tfvars:\n{(example / 'terraform.tfvars').read_text()}", highlight=False
    )
    steps = Steps(console, args.terraform, example, env)
    steps.run("init", "-input=false")
    steps.run("plan", "-input=false", "-out=tfplan")
    steps.run("apply", "-input=false", "tfplan")
    if steps.run("plan", "-input=false", "-detailed-exitcode", ok=(0, 2)) != 0:
        console.print("walkthrough: the plan after apply shows changes; it should show none")
        return 1
    steps.run("output")
    if args.pause:
        # The stand-ins' key and endpoints go into a file only its owner reads, not onto the screen.
        providers = {k: env[k] for k in ("TF_CLI_CONFIG_FILE",) if k in env}
        env_file = write_stand_ins_env(work / "stand-ins.env", stack, providers)
        console.print(
            f"\n[bold]stand-ins are up.[/] In another shell:\n  cd {example}\n  . {env_file}\n{CLI_EXAMPLE}",
            highlight=False,
            soft_wrap=True,
        )
        input("Press Enter to destroy and stop them. ")
    console.print(DESTROY_NOTE, highlight=False)
    steps.run("destroy", "-input=false", "-auto-approve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
