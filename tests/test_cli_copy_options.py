"""provider_helper/cli/copy_options.py: the flags of the commands that copy or unpack, each group gathered into
one value. Each decorator is put on a small command here and run through click, so the values are the ones a
command receives: the defaults (none of them set), the documented figures, each range at its ends and one past."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner
from readme_text import limit, said, size

from provider_helper.archive_members import ExtractLimits
from provider_helper.aws.ecr import RepositorySettings
from provider_helper.cli.copy_options import _key_values, copy_options, extract_options, repository_options
from provider_helper.errors import InputError


def _received(decorator: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    got: dict[str, Any] = {}

    def command(**kwargs: Any) -> None:
        got.update(kwargs)

    command = click.command()(decorator(command))

    done = CliRunner().invoke(command, list(args))
    if done.exception and not isinstance(done.exception, SystemExit):
        raise done.exception
    return done.exit_code, got, done.output


def test_new_repositories_scan_on_push_mutable_aes256_when_nothing_is_set() -> None:
    """README Targets: "--scan-on-push/--no-scan-on-push (default on), --tag-mutability MUTABLE|IMMUTABLE (default
    MUTABLE), --encryption AES256|KMS (default AES256)"."""
    code, got, _ = _received(repository_options)
    assert code == 0
    settings = got["repo_settings"]
    assert settings == RepositorySettings()
    assert settings.scan_on_push is (said(r"`--scan-on-push/--no-scan-on-push` \(default (on|off)\)")[1] == "on")
    assert settings.tag_mutability == said(r"`--tag-mutability MUTABLE\|IMMUTABLE` \(default (\w+)\)")[1]
    assert settings.encryption == said(r"`--encryption AES256\|KMS` \(default (\w+)\)")[1]
    assert (settings.kms_key, dict(settings.tags), settings.lifecycle_policy) == (None, {}, None)


def test_each_repository_setting_reaches_the_value(tmp_path: Any) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"rules": []}')
    arn = "arn:aws:kms:us-east-1:123456789012:key/k"
    code, got, output = _received(
        repository_options,
        "--no-scan-on-push",
        "--tag-mutability",
        "IMMUTABLE",
        "--encryption",
        "KMS",
        "--kms-key",
        arn,
        "--repo-tag",
        "team=a,b",
        "--repo-tag",
        "expr=x=y",
        "--lifecycle-policy",
        str(policy),
    )
    assert code == 0, output
    assert got["repo_settings"] == RepositorySettings(
        False, "IMMUTABLE", "KMS", arn, {"team": "a,b", "expr": "x=y"}, '{"rules": []}'
    )


def test_a_repo_tag_is_key_equals_value_and_the_value_keeps_its_equals_signs_and_commas() -> None:
    """--help: --repo-tag KEY=VALUE; the value may hold = and commas, the first = ends the key."""
    assert _key_values(("a=b=c", "team=x,y", "empty=")) == {"a": "b=c", "team": "x,y", "empty": ""}
    for bad in ("novalue", "=v"):
        with pytest.raises(InputError) as refused:
            _key_values((bad,))
        assert str(refused.value) == f"--repo-tag {bad!r}: expected KEY=VALUE"


def test_the_extract_limits_are_the_readmes_limits_table_when_unset() -> None:
    """README Limits: 64 GiB (--max-extract-bytes), 20,000 (--max-extract-members), 200x (--max-extract-ratio)."""
    code, got, _ = _received(extract_options)
    assert code == 0
    assert got["limits"] == ExtractLimits(
        size(limit("bytes an archive unpacks to")),
        int(limit("entries in an archive").replace(",", "")),
        float(limit("unpacked / compressed size").removesuffix("x")),
    )
    code, got, _ = _received(
        extract_options, "--max-extract-bytes", "1", "--max-extract-members", "1", "--max-extract-ratio", "1"
    )
    assert (code, got["limits"]) == (0, ExtractLimits(1, 1, 1.0))
    for flag in ("--max-extract-bytes", "--max-extract-members"):
        assert _received(extract_options, flag, "0")[0] == 2
    assert _received(extract_options, "--max-extract-ratio", "0.5")[0] == 2


def test_the_copy_flags_defaults_and_their_range_1_to_64() -> None:
    """README Performance: --jobs, --blob-jobs and --check-jobs defaults; each takes 1 to 64."""
    code, got, output = _received(copy_options)
    assert code == 0, output
    assert (got["jobs"], got["blob_jobs"], got["check_jobs"]) == (
        int(said(r"`--jobs` \((\d+)\) and")[1]),
        int(said(r"start at `--blob-jobs` \((\d+)\)")[1]),
        int(said(r"`--check-jobs` \((\d+)\) bound")[1]),
    )
    assert (got["result_file"], got["dry_run"], got["create_repos"], got["mount_from"]) == (None, False, False, ())
    for flag in ("--jobs", "--blob-jobs", "--check-jobs"):
        for value, code in (("1", 0), ("64", 0), ("0", 2), ("65", 2)):
            assert _received(copy_options, flag, value)[0] == code, (flag, value)
        assert _received(copy_options, flag, "64")[1][flag.removeprefix("--").replace("-", "_")] == 64


def test_mount_from_takes_repository_path_prefixes_only() -> None:
    code, got, _ = _received(copy_options, "--mount-from", "/other-cluster/", "--mount-from", "team/b")
    assert (code, got["mount_from"]) == (0, ("other-cluster", "team/b"))
    code, _, output = _received(copy_options, "--mount-from", "Bad Prefix")
    assert code == 2 and "'Bad Prefix' is not a repository path prefix" in output
