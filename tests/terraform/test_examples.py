"""The example root modules followed as their READMEs say, against real Terraform and local registries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_manifest

from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.one_terraform
def test_examples_generic_followed_from_its_readme_mirrors_outputs_digests_and_copies_a_moved_tag_again(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path, tf_bin: str, terraform_env: dict[str, str]
) -> None:
    """No AWS provider, so Terraform starts fast: init, apply, then a moved tag planned by name and copied again."""
    readme = (REPO / "examples" / "generic" / "README.md").read_text()
    assert "-var python=$PWD/.venv/bin/python" in readme and "| `python` |" in readme
    root = tmp_path / "generic"
    shutil.copytree(REPO / "examples" / "generic", root)
    first = source.image(f"{ns}/nvidia/app", "1")
    chart = source.chart(f"{ns}/nvidia/helm-app", "1.0.0")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"},
            {"type": "chart", "source": f"nvcr.io/{ns}/nvidia/helm-app:1.0.0", "group": "test"},
        ],
    )
    # sandbox.env(): the NGC key and the auth file `docker login` writes
    env = {**os.environ, **terraform_env, **sandbox.env(), "TF_DATA_DIR": str(tmp_path / "data")}
    variables = [
        f"registry={sandbox.target.host}",
        f"repository_prefix={ns}",
        f"python={sys.executable}",
        f"source_registry={sandbox.source.host}",
        f"manifest_path={manifest}",
    ]
    variables = [arg for value in variables for arg in ("-var", value)]

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tf_bin, *args, "-no-color"], cwd=root, env=env, capture_output=True, text=True, timeout=300
        )

    assert terraform("init", "-input=false").returncode == 0
    applied = terraform("apply", "-input=false", "-auto-approve", *variables)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    outputs = {k: v["value"] for k, v in json.loads(terraform("output", "-json").stdout).items()}
    assert outputs["digests"] == {"image:app:1": first.digest, "chart:helm-app:1.0.0": chart.digest}
    assert outputs["image_uris"] == {"app:1": f"{sandbox.target.host}/{ns}/app@{first.digest}"}
    assert outputs["versions"] == {"image:app:1": "1", "chart:helm-app:1.0.0": "1.0.0"} and outputs["missing"] == []

    moved = source.image(f"{ns}/nvidia/app", "1", layer_sizes=(4096,))
    planned = terraform("plan", "-input=false", "-detailed-exitcode", *variables)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    moved_target = f"{sandbox.target.host}/{ns}/app:1@{moved.digest}"
    assert moved_target in planned.stdout, "the plan names the moved artifact and its new digest"
    again = terraform("apply", "-input=false", "-auto-approve", *variables)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(terraform("output", "-json", "digests").stdout)["image:app:1"] == moved.digest
