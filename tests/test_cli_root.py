"""Unit tests of provider_helper/cli/root.py, the CLI's front door: how a usage error ends."""

from __future__ import annotations

import pytest
from helpers import run_cli

from provider_helper import __version__, wording
from provider_helper.cli import root
from provider_helper.errors import InputError, SettingError
from provider_helper.exits import INTERRUPTED
from provider_helper.redact import remember
from provider_helper.usecases import plan as plan_usecase


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["mirror", "--no-such-flag"], "No such option '--no-such-flag'."),
        (["mirror", "--blob-jobs"], "Option '--blob-jobs' requires an argument."),
        (["mirror", "--blob-jobs", "0"], "Invalid value for '--blob-jobs': 0 is not in the range 1<=x<=64."),
        (["--log-format", "xml", "plan"], "Invalid value for '--log-format': 'xml' is not one of 'text', 'json'."),
        (["no-such-command"], "No such command 'no-such-command'."),
    ],
)
def test_a_bad_or_missing_flag_is_one_error_line_and_exit_2(argv: list[str], line: str) -> None:
    """CONTRACTS, Exit codes: "2 | bad input: a flag or module setting ..."; README Use: "2 bad input". An unknown
    flag, a flag without its value, a value out of range or not among the choices, an unknown command: one line,
    nothing on standard output, exit 2."""
    done = run_cli(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"nvcf-mirror: error: {line}\n"
    assert done.stdout == ""


TARGET = "registry.example/prefix"


def test_a_usage_error_is_exit_2_and_one_error_line() -> None:
    """CONTRACTS Exit codes: "2 | bad input: a flag ... One line per problem on standard error, no traceback"."""
    done = run_cli("mirror")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["nvcf-mirror: error: Missing option '--target'."]
    done = run_cli("plan", "--offline", "--target", TARGET, "--no-such-flag")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["nvcf-mirror: error: No such option '--no-such-flag'."]
    done = run_cli("plan", "--offline", "--target", TARGET, "--retries", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "nvcf-mirror: error: Invalid value for '--retries': 0 is not in the range 1<=x<=20."
    ]


def test_flags_that_exclude_each_other_are_one_line_naming_both_exit_2() -> None:
    """README: "Flags that exclude each other ... stop the command with one line naming both, exit 2"."""
    done = run_cli("plan", "--offline", "--target", TARGET, "--platform", "linux/arm64", "--all-platforms")
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        ["nvcf-mirror: error: --platform and --all-platforms exclude each other"],
    )
    done = run_cli("plan", "--offline", "--target", TARGET, "--group", "infrastructure", "--all-groups")
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        ["nvcf-mirror: error: --group and --all-groups exclude each other"],
    )
    assert done.stdout == ""


def test_an_error_line_is_always_one_line_with_its_whitespace_folded(capsys: pytest.CaptureFixture[str]) -> None:
    """CONTRACTS: "Every error is one line on standard error starting nvcf-mirror:": runs of spaces and the
    Unicode line separators str.split knows (which printable() leaves alone) fold into single spaces."""
    root._fail("first  part\u2028second\u2029third   end")
    assert capsys.readouterr().err == "nvcf-mirror: error: first part second third end\n"


def test_a_setting_error_is_worded_as_the_flag_that_set_it() -> None:
    """errors.SettingError: domain code names the setting; the CLI words it ``--set-version NAME=…: problem``."""
    wording.use(wording.CLI)
    assert root.in_flags(SettingError("set_versions", "nvcf-cli", "no such version", value="0.0.99")) == (
        "--set-version nvcf-cli=0.0.99: no such version"
    )
    assert (
        root.in_flags(SettingError("set_versions", "nvcf-cli", "not listed")) == "--set-version nvcf-cli=…: not listed"
    )
    assert root.in_flags(SettingError("groups", "nosuch", "no such group")) == "--group nosuch: no such group"
    done = run_cli("plan", "--offline", "--target", TARGET, "--set-version", "nvcf-cli")
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        ["nvcf-mirror: error: --set-version nvcf-cli=…: expected NAME=VERSION"],
    )


def test_an_unexpected_error_is_one_redacted_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Security: "An error nobody expected is one redacted line, from the CLI and from the Terraform
    adapter alike, never a traceback". A bug is stood in for: plan's use case raises what no real input makes."""
    secret = "s3cr3t-token-value"

    def broken(*args: object, **kwargs: object) -> None:
        remember(secret)
        raise RuntimeError(f"boom at https://user:pw@host.example/x with {secret}")

    monkeypatch.setattr(plan_usecase, "plan", broken)
    done = run_cli("plan", "--target", TARGET)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "nvcf-mirror: internal error: RuntimeError: boom at https://<redacted>@host.example/x with <redacted> "
        "(run with -v for the traceback)"
    ]


def test_ctrl_c_is_exit_130_with_the_documented_note(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONTRACTS: "130 | interrupted (Ctrl-C): no tag was written for an artifact that had not finished"."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plan_usecase, "plan", interrupted)
    done = run_cli("plan", "--target", TARGET)
    assert done.returncode == 130
    # click first ends the line the terminal's ^C is on
    assert done.stderr == f"\nnvcf-mirror: {INTERRUPTED}\n"
    assert INTERRUPTED == "interrupted; no tag was written for unfinished artifacts"


def test_version_prints_the_version_and_help_lists_every_command() -> None:
    """README: "--version prints the version"; the group lists each command of COMMAND_MODULES."""
    done = run_cli("--version")
    assert (done.returncode, done.stdout) == (0, f"nvcf-mirror, version {__version__}\n")
    done = run_cli("--help")
    assert done.returncode == 0
    for command in root.COMMAND_MODULES:
        assert f"  {command} " in done.stdout, command


def test_an_error_line_never_shows_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Security: secrets (URL passwords, every key, password or token the run holds) "are replaced by
    <redacted> in error lines"."""

    def refused(*args: object, **kwargs: object) -> None:
        remember("s3cr3t-token-value")
        raise InputError("s3cr3t-token-value was refused by https://user:pw@registry.example/v2/")

    monkeypatch.setattr(plan_usecase, "plan", refused)
    done = run_cli("plan", "--target", TARGET)
    assert (done.returncode, done.stderr.splitlines()) == (
        2,
        ["nvcf-mirror: error: <redacted> was refused by https://<redacted>@registry.example/v2/"],
    )
