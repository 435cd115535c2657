"""examples/local's walk-through (provider_helper/sandbox/walkthrough.py): what its --pause file gives a
shell, followed as examples/local/README.md says, against the stand-ins."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from provider_helper import manifest
from provider_helper.sandbox.stack import Sandbox, seed, seed_resources
from provider_helper.sandbox.walkthrough import CLI_EXAMPLE, write_stand_ins_env

REPO = Path(__file__).resolve().parent.parent
HELD = ("NGC_API_KEY", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")  # what the user's shell may hold: the file must give it


def test_the_pause_file_holds_everything_the_readmes_cli_example_needs(sandbox: Sandbox, tmp_path: Path) -> None:
    factory = sandbox.source_factory()
    seed(factory, manifest.load().select())  # what the walk-through seeds: the default groups of the bundled list
    factory.close()
    seed_resources(sandbox.ngc, manifest.load().select(all_groups=True))
    env_file = write_stand_ins_env(tmp_path / "stand-ins.env", sandbox, {})
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    text = env_file.read_text()
    assert f"export SOURCE_REGISTRY={sandbox.source.host}\n" in text
    assert f"export TARGET_REGISTRY={sandbox.target.host}\n" in text

    readme = (REPO / "examples" / "local" / "README.md").read_text().splitlines()
    example = CLI_EXAMPLE.splitlines()
    shown = [line for line in readme if line.startswith("  nvcf-mirror ")]
    assert shown == example, "the README shows what the pause prints"
    by_command = {line.split()[1]: line.strip() for line in example}
    clean = {k: v for k, v in os.environ.items() if k not in HELD and not k.startswith("AWS_")}

    def in_shell(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", f". {env_file} && {line}"],
            env=clean,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )

    # the walk-through's apply mirrored into nvcf-local; here the README's mirror line fills by-hand, verify reads it
    verify = by_command["verify"].replace("/nvcf-local", "/by-hand")
    for line in (by_command["mirror"], verify, by_command["plan"], by_command["resources"]):
        done = in_shell(line)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    assert (tmp_path / "ngc" / "nvcf-base" / "main.tf").is_file(), "resources download --extract wrote ./ngc/nvcf-base/"
    generic = in_shell(by_command["mirror"].replace(" --target-type ecr", ""))
    assert generic.returncode == 2, "without --target-type ecr a loopback target is generic: it has no login"


def test_examples_local_gives_moto_through_the_environment_not_an_endpoints_block() -> None:
    code = [line.split("#", 1)[0] for line in (REPO / "examples" / "local" / "main.tf").read_text().splitlines()]
    assert not any("endpoints" in line for line in code), "an endpoints block costs the provider 3 s at each start"
