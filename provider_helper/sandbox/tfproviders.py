"""Terraform providers without the Terraform registry: a CLI config that takes hashicorp/aws from a
filesystem mirror on this machine and hashicorp/external from a stand-in served from Python.

The stand-in keeps hashicorp/external's documented contract: data source ``external`` with ``program``
(list of strings, no shell), ``query`` (map of strings, sent as one JSON object on stdin),
``working_dir``; computed ``result`` (map of strings) and ``id`` ("-"). A non-zero exit is "External
Program Execution Failed" with the program's stderr; output that is not a JSON object of strings is
"Unexpected External Program Results". It is written with the ``tf`` package (the demo extra) and
installed into a filesystem_mirror as registry.terraform.io/hashicorp/external, since
``dev_overrides`` would break ``terraform init``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from provider_helper.errors import InputError
from provider_helper.sandbox.extra import require

EXTERNAL_VERSION = "2.3.5"
AWS_MIRROR_ENV = "NVCF_MIRROR_TF_PLUGINS"

PROVIDER_SCRIPT = """#!{python}
from provider_helper.sandbox.tfproviders import serve_external
serve_external()
"""


def aws_provider_mirror() -> Path:
    """The root of a filesystem mirror holding the HashiCorp AWS provider (``$NVCF_MIRROR_TF_PLUGINS``,
    /opt/tf-plugins, /usr/share/terraform/plugins, ~/.terraform.d/plugins)."""
    roots = [
        Path(os.environ.get(AWS_MIRROR_ENV, "/opt/tf-plugins")),
        Path("/usr/share/terraform/plugins"),
        Path.home() / ".terraform.d" / "plugins",
    ]
    for root in roots:
        if any(root.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*")):
            return root
    raise InputError(
        f"no HashiCorp AWS provider in a filesystem mirror (looked in {', '.join(map(str, roots))}): "
        f"set {AWS_MIRROR_ENV} to the root of one "
        "(terraform providers mirror DIR writes one on a machine with internet)"
    )


def offline_cli_config(root: Path) -> Path:
    """Write a TF_CLI_CONFIG_FILE under ``root``: hashicorp/external from the stand-in, hashicorp/aws
    from the machine's filesystem mirror, nothing from the network."""
    runner = require("tf.runner")
    aws = aws_provider_mirror()
    root.mkdir(parents=True, exist_ok=True)
    script = root / "terraform-provider-external"
    script.write_text(PROVIDER_SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    mirror = root / "mirror"
    runner.install_provider("registry.terraform.io", "hashicorp", "external", EXTERNAL_VERSION, mirror, script)
    config = root / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/external"]\n  }\n'
        f'  filesystem_mirror {{\n    path    = "{aws}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )
    return config


def moto_provider_block(region: str = "us-east-1") -> str:
    """An ``aws`` provider block for moto server (test keys, no account lookups). Terraform must run with
    moto's ``AWS_ENDPOINT_URL_ECR`` and ``AWS_ENDPOINT_URL_STS`` (``MotoServer.env``), which the
    HashiCorp provider honours as the AWS SDKs do. Not an ``endpoints`` block: provider 5.100 spends
    about 3 s of CPU validating one at each of its starts (a one-repository plan, three starts: 9.4 s
    of the provider's CPU with the block, 1.9 s with the variables; measured 2026-12-01)."""
    return (
        'provider "aws" {\n'
        f'  region                      = "{region}"\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "}\n"
    )


def serve_external() -> None:
    """The stand-in's process: what Terraform runs as terraform-provider-external."""
    require("tf.runner").run_provider(external_provider(), sys.argv)


def run_program(
    program: list[str], query: dict[str, str], working_dir: str | None
) -> tuple[dict[str, str] | None, str]:
    """Run the program as hashicorp/external does: (result, "") or (None, the error's summary and detail)."""
    done = subprocess.run(
        program, input=json.dumps(query).encode(), capture_output=True, cwd=working_dir or None, check=False
    )
    if done.returncode != 0:
        return None, (
            "External Program Execution Failed\nThe data source received an unexpected error "
            "while attempting to execute "
            f"the program.\n\nProgram: {program[0]}\nError Message: {done.stderr.decode(errors='replace')}\n"
            f"State: exit status {done.returncode}"
        )
    try:
        result = json.loads(done.stdout)
        if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
            raise ValueError("not a map of strings")
    except ValueError as exc:
        return None, (
            "Unexpected External Program Results\n"
            "The data source received unexpected results after executing the program."
            f"\n\nProgram output must be a JSON encoded map of string keys and string values.\n\nJSON Error: {exc}"
        )
    return result, ""


def external_provider() -> Any:
    """hashicorp/external's provider object for ``tf.runner.run_provider`` (``tf`` imported here, not at
    module import, so a plain install imports this module)."""
    p, schema, types = require("tf.provider"), require("tf.schema"), require("tf.types")

    class External(p.DataSource):  # type: ignore[misc, name-defined]
        @classmethod
        def get_name(cls) -> str:
            return "external"

        @classmethod
        def get_schema(cls) -> Any:
            return schema.Schema(
                attributes=[
                    schema.Attribute("program", types.List(types.String()), required=True),
                    schema.Attribute("query", types.Map(types.String()), optional=True),
                    schema.Attribute("working_dir", types.String(), optional=True),
                    schema.Attribute("result", types.Map(types.String()), computed=True),
                    schema.Attribute("id", types.String(), computed=True),
                ]
            )

        def __init__(self, *args: object) -> None:
            pass

        def read(self, ctx: Any, config: Any) -> dict[str, Any] | None:
            program = list(config["program"] or [])
            if not program or not program[0]:
                ctx.diagnostics.add_error(
                    "External Program Missing", "The data source was configured without a program to execute."
                )
                return None
            query = {k: v for k, v in (config.get("query") or {}).items() if v is not None}
            result, error = run_program(program, query, config.get("working_dir"))
            if result is None:
                summary, _, detail = error.partition("\n")
                ctx.diagnostics.add_error(summary, detail)
                return None
            return {
                "program": program,
                "query": config.get("query"),
                "working_dir": config.get("working_dir"),
                "result": result,
                "id": "-",
            }

    class ExternalProvider(p.Provider):  # type: ignore[misc, name-defined]
        def full_name(self) -> str:
            return "registry.terraform.io/hashicorp/external"

        def get_model_prefix(self) -> str:
            return ""

        def get_provider_schema(self, diags: Any) -> Any:
            return schema.Schema(attributes=[])

        def validate_config(self, diags: Any, config: Any) -> None:
            pass

        def configure_provider(self, diags: Any, config: Any) -> None:
            pass

        def get_data_sources(self) -> list[type]:
            return [External]

        def get_resources(self) -> list[type]:
            return []

    return ExternalProvider()
