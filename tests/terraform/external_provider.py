"""A stand-in for the hashicorp/external provider, written with the ``tf`` package.

hashicorp/external cannot be downloaded here (no Terraform registry), so this provider keeps
its documented contract: data source ``external`` with ``program`` (list of strings, no shell),
``query`` (map of strings, sent as one JSON object on stdin), ``working_dir``; computed ``result``
(map of strings) and ``id`` ("-"). A non-zero exit is "External Program Execution Failed" with
the program's stderr; output that is not a JSON object of strings is "Unexpected External
Program Results". It is installed into a filesystem_mirror as registry.terraform.io/hashicorp/external.
"""

from __future__ import annotations

import json
import subprocess

from tf import provider as p
from tf import schema, types
from tf.iface import Config, ReadDataContext, State
from tf.provider import DataSource, Diagnostics, Resource

VERSION = "2.3.5"


class ExternalProvider(p.Provider):
    def full_name(self) -> str:
        return "registry.terraform.io/hashicorp/external"

    def get_model_prefix(self) -> str:
        return ""

    def get_provider_schema(self, diags: Diagnostics) -> schema.Schema:
        return schema.Schema(attributes=[])

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        pass

    def get_data_sources(self) -> list[type[DataSource]]:
        return [External]

    def get_resources(self) -> list[type[Resource]]:
        return []


class External(p.DataSource):
    @classmethod
    def get_name(cls) -> str:
        return "external"

    @classmethod
    def get_schema(cls) -> schema.Schema:
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

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        program = list(config["program"] or [])
        if not program or not program[0]:
            ctx.diagnostics.add_error("External Program Missing", "The data source was configured without a program to execute.")
            return None
        query = {k: v for k, v in (config.get("query") or {}).items() if v is not None}
        done = subprocess.run(program, input=json.dumps(query).encode(), capture_output=True, cwd=config.get("working_dir") or None)
        if done.returncode != 0:
            ctx.diagnostics.add_error(
                "External Program Execution Failed",
                f"The data source received an unexpected error while attempting to execute the program.\n\nProgram: {program[0]}\n"
                f"Error Message: {done.stderr.decode(errors='replace')}\nState: exit status {done.returncode}",
            )
            return None
        try:
            result = json.loads(done.stdout)
            if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
                raise ValueError("not a map of strings")
        except ValueError as exc:
            ctx.diagnostics.add_error(
                "Unexpected External Program Results",
                f"The data source received unexpected results after executing the program.\n\nProgram output must be a JSON encoded map of string keys and string values.\n\nJSON Error: {exc}",
            )
            return None
        return {"program": program, "query": config.get("query"), "working_dir": config.get("working_dir"), "result": result, "id": "-"}
