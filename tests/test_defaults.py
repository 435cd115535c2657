"""Every default the README, the module README or --help states, held by a test that does NOT set it.

The first tests read the docs: the defaults --help prints must be the README's, and the module's
variables.tf defaults the module README's, so a default changed in one place fails. The others run
without the setting and assert its effect: sizes with units, the progress interval (through an
injected clock, not a 10 s wait), the blob rate floor, the cache directory, the NGC API hosts,
--retries (against a fault proxy answering 503 with Retry-After: 0), and the settings new ECR
repositories get at moto."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import click
import pytest
from faultproxy import Fault, FaultProxy
from helpers import run_cli, write_manifest

from provider_helper import envvars, progress, targets
from provider_helper.cachedir import cache_dir
from provider_helper.cli import cli
from provider_helper.errors import InputError, TransientError
from provider_helper.http import moving
from provider_helper.manifest import load as load_manifest
from provider_helper.ngc_api import client_from_env
from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox
from provider_helper.session import RunConfig
from provider_helper.splitarchive import parse_size

REPO = Path(__file__).resolve().parents[1]
MODULE = REPO / "terraform" / "modules" / "nvcf-mirror"
BINARY = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}  # the README: sizes are in KiB, MiB and GiB


def _flat(text: str) -> str:
    return " ".join(text.split())


README = _flat((REPO / "README.md").read_text())
CONTRACTS = _flat((REPO / "docs" / "CONTRACTS.md").read_text())


def _readme(pattern: str) -> str:
    found = re.findall(pattern, README)
    assert len(found) == 1, f"the README states this default {len(found)} times, not once: {pattern}"
    return str(found[0])


def _readme_size(pattern: str) -> int:
    number, unit = _readme(pattern).split()
    return int(number.replace(",", "")) * BINARY[unit]


# What the README says each shown default is, as --help prints it.
README_DEFAULTS = {
    "--retries": lambda: _readme(r"`--retries N` \(attempts per request or blob, default (\d+)\)"),
    "--target-type": lambda: _readme(r"`--target-type auto\|ecr\|generic` \(default `(\w+)`\)"),
    "--scan-on-push": lambda: {"on": "scan-on-push", "off": "no-scan-on-push"}[
        _readme(r"`--scan-on-push/--no-scan-on-push` \(default (on|off)\)")
    ],
    "--tag-mutability": lambda: _readme(r"`--tag-mutability MUTABLE\|IMMUTABLE` \(default (\w+)\)"),
    "--encryption": lambda: _readme(r"`--encryption AES256\|KMS` \(default (\w+)\)"),
    "--jobs": lambda: _readme(r"`--jobs` \((\d+)\) and"),
    "plan --jobs": lambda: _readme(r"`plan --jobs` \((\d+)\)"),
    "--blob-jobs": lambda: _readme(r"start at `--blob-jobs` \((\d+)\)"),
    "--check-jobs": lambda: _readme(r"`--check-jobs` \((\d+)\) bound"),
    "--max-extract-bytes": lambda: str(_readme_size(r"\| ([\d,]+ [KMG]?i?B) \| `--max-extract-bytes` \|")),
    "--max-extract-members": lambda: _readme(r"\| ([\d,]+) \| `--max-extract-members` \|").replace(",", ""),
    "--max-extract-ratio": lambda: _readme(r"\| (\d+)x \| `--max-extract-ratio` \|"),
    "--output": lambda: _readme(r"`--output json` \(default `(\w+)`"),
    "--module-address": lambda: _readme(r"`ADDR` default `([\w.]+)`"),
    "manifest import --group": lambda: _readme(r"`--group NAME` \(default `([\w-]+)`\)"),
    "--log-format": lambda: _readme(r"`--log-format` default `(\w+)`"),
}
# Defaults --help states in an option's words, "(default: X)", and the README's words for them.
README_STATED = {
    "--manifest": lambda: _readme(r"`--manifest PATH` \(default: ([^)]+)\)"),
    "--platform": lambda: _readme(r"`--platform OS/ARCH\[/VARIANT\]` \(repeatable, default `([^`]+)`\)"),
    "--release": lambda: _readme(r"`--manifest PATH` \(default: the bundled NVCF (v[\d.]+) list\)"),
    "--aws-region": lambda: _readme(
        r"`--aws-region REGION` \(an ECR target whose host names no region; default `(\w+)`"
    ),
    "manifest diff --group": lambda: _readme(r"Of a manifest, (its default groups) count"),
    "--group": lambda: str(
        re.findall(r"Without `--group`, (the manifest.s default groups) are selected", CONTRACTS)[0]
    ),
}


def _commands(command: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(command)
    if isinstance(command, click.Group):
        if not path:  # the options before the command: -v, -q, --log-format
            yield "", command
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def _printed_defaults() -> list[tuple[str, str, str, str]]:
    """(command, flag, "shown" or "stated", default) for every default a command's --help prints."""
    found = []
    for name, command in _commands():
        ctx = click.Context(command, info_name=name)
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is None:
                continue
            flag = next(o for o in param.opts if o.startswith("--"))
            text = _flat(record[1])
            if shown := re.search(r"\[default: ([^\]]+)\]", text):
                found.append((name, flag, "shown", shown[1].split(";")[0]))  # "6; 1<=x<=20": the range after it
            if stated := re.search(r"\(repeatable; default: ([^)]+)\)|\(default: ([^)]+)\)", text):
                found.append((name, flag, "stated", stated[1] or stated[2]))
    return found


def test_the_defaults_help_prints_are_the_ones_the_readme_states() -> None:
    printed = _printed_defaults()
    assert len(printed) > 60
    for command, flag, how, default in printed:
        if how == "shown":
            key = f"{command} {flag}" if f"{command} {flag}" in README_DEFAULTS else flag
            assert key in README_DEFAULTS, (
                f"{command} {flag}: --help shows a default ({default}) the README does not state"
            )
            expected = README_DEFAULTS[key]()
            if flag == "--max-extract-ratio":
                assert float(default) == float(expected), (command, flag)
            else:
                assert default == expected, f"{command} {flag}: --help says {default}, the README {expected}"
        elif flag in README_STATED:
            key = f"{command} {flag}" if f"{command} {flag}" in README_STATED else flag
            assert default.rstrip(".") == README_STATED[key](), f"{command} {flag}: --help says {default!r}"


def test_the_module_variables_defaults_are_the_module_readmes() -> None:
    declared = dict(re.findall(r'variable "(\w+)" \{(.*?)\n\}', (MODULE / "variables.tf").read_text(), re.S))
    table = dict(re.findall(r"^\| `(\w+)` \| .* \| `[^|]+` \| ([^|]+) \|$", (MODULE / "README.md").read_text(), re.M))
    assert set(declared) == set(table), "every variable has a row in the module README, and only variables do"
    described = {"repository_prefix": ("null", "`cluster_name`"), "manifest_path": ("null", "bundled NVCF v0.5 list")}
    for name, body in declared.items():
        default = re.search(r"^\s*default\s*=\s*(.+)$", body, re.M)
        documented = table[name].strip()
        if default is None:
            assert documented == "required", name
        elif name in described:
            assert (default[1].strip(), documented) == described[name], name
        else:
            assert documented == f"`{default[1].strip()}`", (
                f"{name}: variables.tf says {default[1]}, the module README {documented}"
            )
    main = (MODULE / "main.tf").read_text()
    assert "coalesce(var.repository_prefix, var.cluster_name)" in main, "repository_prefix defaults to cluster_name"
    assert 'var.manifest_path != null ? var.manifest_path : ""' in main, "no manifest_path: the bundled list"


def test_the_module_groups_default_names_the_manifests_default_groups() -> None:
    description = re.search(
        r'variable "groups" \{\s*description\s*=\s*"([^"]+)"', (MODULE / "variables.tf").read_text()
    )
    assert description is not None
    named = re.search(r"\(([^)]+)\)", description[1])
    assert named is not None
    assert [g.strip() for g in named[1].split(",")] == load_manifest(None).default_groups
    assert (
        _flat("(`infrastructure`, `control-plane`, `gpu-workload`, `reference-architecture`, `low-latency-streaming`)")
        in README
    )


def test_the_environment_variables_defaults_are_the_readmes_and_apply_when_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in envvars.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    assert envvars.number("NVCF_MIRROR_PROGRESS_INTERVAL") == float(
        _readme(r"seconds between progress lines off a terminal \(default (\d+)\)")
    )
    rate, window = re.findall(r"\(default (\d+) KiB/s over (\d+) s;", README)[0]
    assert envvars.number("NVCF_MIRROR_MIN_BLOB_RATE") == int(rate) * 1024
    assert envvars.number("NVCF_MIRROR_BLOB_RATE_WINDOW") == int(window)

    monkeypatch.delenv("NVCF_MIRROR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert "(default `$XDG_CACHE_HOME/nvcf-mirror`)" in README
    assert cache_dir() == tmp_path / "nvcf-mirror"

    api, authn = re.findall(r"\(default `(https://[^`]+)`, `(https://[^`]+)`\)", README)[0]
    client = client_from_env({"NGC_API_KEY": "nvapi-x"})
    assert (client.api_url, client.authn_url) == (api, authn)


def test_the_progress_line_comes_every_10_seconds_when_the_interval_is_unset(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The reporter a run off a terminal uses, with a clock the test moves: no line at 9.9 s, one at 10 s."""
    monkeypatch.delenv("NVCF_MIRROR_PROGRESS_INTERVAL", raising=False)
    now = [1000.0]
    monkeypatch.setattr("provider_helper.progress.time.monotonic", lambda: now[0])
    monkeypatch.setattr(progress, "on_terminal", lambda: False)
    caplog.set_level(logging.INFO, logger="nvcf-mirror")
    with progress.reporting(3) as reporter:
        assert isinstance(reporter, progress.LogReporter) and reporter.interval == 10
        reporter.planned(3 << 20)
        for at in (5.0, 9.9):
            now[0] = 1000.0 + at
            reporter.transferred(1 << 20)
        assert not [r for r in caplog.records if "progress" in r.getMessage()], "a progress line before 10 s"
        now[0] = 1010.0
        reporter.transferred(1 << 20)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress")]
    assert lines == ["progress 3.0 MiB of 3.0 MiB, 307.2 KiB/s, 0 of 3 artifacts"]


def test_the_blob_rate_floor_is_16_kib_a_second_over_60_seconds_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the floor a stream passes; one byte short of it over the window, it is stalled."""
    for name in ("NVCF_MIRROR_MIN_BLOB_RATE", "NVCF_MIRROR_BLOB_RATE_WINDOW"):
        monkeypatch.delenv(name, raising=False)

    def stream(total: int) -> list[bytes]:
        ticks = iter([0.0, 30.0, 60.0, 61.0])
        return list(
            moving(iter([b"x" * (total - 1), b"x", b"x"]), "blob", clock=lambda: next(ticks), whole_chunks=False)
        )

    assert len(b"".join(stream(16 * 1024 * 60))) == 16 * 1024 * 60 + 1
    with pytest.raises(TransientError, match="slower than 16 KiB/s: the stream is stalled"):
        stream(16 * 1024 * 60 - 1)


def test_archive_size_units_are_binary_with_i_and_decimal_without() -> None:
    assert "--archive-size 4GiB" in README and "(FAT32 media at 4 GiB" in README
    assert parse_size("4GiB") == 4 * 2**30
    assert parse_size("4GB") == 4 * 10**9
    assert parse_size("500MB") == 500 * 10**6
    assert parse_size("3MiB") == 3 * 2**20
    assert parse_size("2048KiB") == 2 * 2**20
    assert parse_size("1TiB") == 2**40 and parse_size("1TB") == 10**12
    assert parse_size("1048576") == 2**20, "a number without a unit is bytes"
    assert parse_size("4gib") == 4 * 2**30, "units are read without regard to case"


def test_a_platform_is_linux_amd64_and_signatures_are_copied_when_unset() -> None:
    config = RunConfig(target="r.example/p")
    assert [str(p) for p in config.selected_platforms() or ()] == ["linux/amd64"]
    assert config.signatures is True and config.retries == 6


@pytest.fixture
def source_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.source.url)
    yield proxy
    proxy.close()


def test_retries_are_6_attempts_when_unset(
    sandbox: Sandbox, source: Factory, source_proxy: FaultProxy, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/app", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}]
    )
    source_proxy.add(Fault("GET", "/manifests/", "status", times=-1, status=503, headers={"Retry-After": "0"}))
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        source_proxy.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env=sandbox.env(),
    )
    assert done.returncode == 1, done.stderr
    assert (
        source_proxy.count("GET", "/manifests/")
        == int(_readme(r"`--retries N` \(attempts per request or blob, default (\d+)\)"))
        == 6
    )


def test_create_repos_without_settings_makes_repositories_that_scan_on_push_mutable_and_aes256(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    source.image(f"{ns}/nvidia/app", "1")
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/app:1", "group": "test"}]
    )
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--target-type",
        "ecr",
        "--create-repos",
        env=sandbox.ecr_env(),
    )
    assert done.returncode == 0, done.stderr
    ecr = boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    repo = ecr.describe_repositories(repositoryNames=[f"{ns}/app"])["repositories"][0]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["encryptionConfiguration"]["encryptionType"] == "AES256"
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == []


@pytest.mark.parametrize(
    ("env", "region"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"),
    ],
)
def test_an_ecr_target_whose_host_names_no_region_takes_aws_region_then_aws_default_region(
    env: dict[str, str], region: str
) -> None:
    """README COMMON: --aws-region "(an ECR target whose host names no region; default AWS_REGION, then
    AWS_DEFAULT_REGION)"; a host that names its region needs neither, and with none of the three it is one line."""
    env = {**env, "AWS_ENDPOINT_URL_ECR": "https://registry.example"}  # an ECR stand-in whose host names no region
    assert targets.resolve("registry.example/p", "ecr", None, None, None, env).region == region
    assert targets.resolve("registry.example/p", "ecr", "us-west-2", None, None, env).region == "us-west-2"
    named = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/p"
    assert targets.resolve(named, "auto", None, None, None, {}).region == "eu-central-1"
    with pytest.raises(InputError) as none:
        targets.resolve(
            "registry.example/p", "ecr", None, None, None, {"AWS_ENDPOINT_URL_ECR": "https://registry.example"}
        )
    assert str(none.value) == "cannot tell the AWS region of registry.example: use --aws-region or AWS_REGION"
