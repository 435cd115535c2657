"""provider_helper/cli/options.py: the options the commands share (here: --result-file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from helpers import run_cli

from provider_helper import targets
from provider_helper.cli.options import run_config_options
from provider_helper.errors import InputError
from provider_helper.session import RunConfig

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/p"


@pytest.mark.parametrize("command", ["mirror", "load"])
def test_a_result_file_left_by_an_earlier_run_is_removed_when_a_run_stops_before_writing_one(
    tmp_path: Path, command: str
) -> None:
    """README/CONTRACTS: "A result file is replaced atomically, and removed when a run stops before writing
    a new one." The run stops at its input (exit 2): the earlier run's document is gone, not left to
    look current."""
    stale = tmp_path / "result.json"
    stale.write_text('{"version": 1, "summary": {"failed": 0}}')
    source = ("--manifest", str(tmp_path / "missing.yaml")) if command == "mirror" else ("--from", str(tmp_path / "x"))
    done = run_cli(command, *source, "--target", ECR, "--result-file", str(stale))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert not stale.exists()


def _config(*args: str, input: str | None = None, target: str | None = "required") -> tuple[int, Any, str]:
    got: list[RunConfig] = []

    def command(config: RunConfig) -> None:
        got.append(config)

    wrapped = click.command()(run_config_options(target=target)(command))
    done = CliRunner().invoke(wrapped, list(args), input=input)
    if done.exception and not isinstance(done.exception, SystemExit):
        raise done.exception
    return done.exit_code, got[0] if got else None, done.output


def test_the_common_flags_defaults_when_none_is_given() -> None:
    """README COMMON: --target-type "default auto", --retries "default 6", --platform "default linux/amd64", the
    bundled v0.5 list without --manifest; no password without --password-stdin."""
    code, config, output = _config("--target", "registry.example/p")
    assert code == 0, output
    assert config == RunConfig(target="registry.example/p")
    assert (config.target_type, config.retries, config.platforms, config.manifest, config.release) == (
        "auto",
        6,
        (),
        None,
        None,
    )
    assert (config.target_username, config.target_password, config.signatures) == (None, None, True)


def test_each_common_flag_reaches_the_run_config(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    code, config, output = _config(
        *("--target", "registry.example/p", "--target-type", "generic", "--release", "v1.0", "--group", "a"),
        *("--group", "b", "--platform", "linux/arm64", "--source-registry", "mirror.example"),
        *(
            "--source-map",
            "docker.io=hub.example",
            "--exclude",
            "x",
            "--set-version",
            "y=1",
            "--aws-region",
            "eu-west-1",
        ),
        *("--insecure-registry", "h.example", "--ca-file", str(ca), "--retries", "20", "--target-username", "u"),
    )
    assert code == 0, output
    assert config == RunConfig(
        target="registry.example/p",
        release="v1.0",
        groups=("a", "b"),
        platforms=("linux/arm64",),
        source_registry="mirror.example",
        source_map=("docker.io=hub.example",),
        target_type="generic",
        insecure_registries=("h.example",),
        set_versions=("y=1",),
        excludes=("x",),
        ca_file=str(ca),
        aws_region="eu-west-1",
        target_username="u",
        retries=20,
    )


def test_retries_take_1_to_20() -> None:
    """--help: --retries "[default: 6; 1<=x<=20]"."""
    for value, code in (("1", 0), ("20", 0), ("0", 2), ("21", 2)):
        assert _config("--target", "r.example", "--retries", value)[0] == code, value


def test_a_target_is_required_unless_the_command_checks_it_itself() -> None:
    code, _, output = _config()
    assert code == 2 and "Missing option '--target'." in output
    code, config, _ = _config(target="optional")
    assert code == 0 and config.target == ""


def test_password_stdin_reads_the_password_whole_but_its_line_break_and_refuses_an_empty_one() -> None:
    """README Targets: "--target-username USER --password-stdin (or NVCF_MIRROR_TARGET_PASSWORD), never a flag
    value"."""
    code, config, _ = _config("--target", "r.example", "--target-username", "u", "--password-stdin", input=" p w \r\n")
    assert (code, config.target_password) == (0, " p w ")
    with pytest.raises(InputError) as refused:
        _config("--target", "r.example", "--password-stdin", input="")
    assert str(refused.value) == "--password-stdin: standard input was empty"
    done = run_cli("plan", "--offline", "--target", ECR, "--target-username", "u", "--password-stdin")
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        ["nvcf-mirror: error: --password-stdin: standard input was empty"],
    )


def test_the_target_password_comes_from_stdin_else_nvcf_mirror_target_password() -> None:
    """README env: "NVCF_MIRROR_TARGET_PASSWORD | the target password with --target-username (instead of
    --password-stdin)"; CONTRACTS: "Secrets are never flag values"."""
    env = {"NVCF_MIRROR_TARGET_PASSWORD": "from-env"}
    assert targets.PASSWORD_ENV == "NVCF_MIRROR_TARGET_PASSWORD"
    assert targets.resolve("registry.example/p", "generic", None, "u", None, env).password == "from-env"
    assert targets.resolve("registry.example/p", "generic", None, "u", "piped", env).password == "piped"
    assert targets.resolve("registry.example/p", "auto", None, None, None, {}).password is None
