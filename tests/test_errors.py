"""provider_helper/errors.py: the error kinds, and what each becomes through both front doors (the CLI's
``run`` and the Terraform adapter's ``main``): InputError and its kinds exit 2, RegistryError and its kinds
exit 1, each one line (docs/CONTRACTS.md, "Exit codes"). The command's work is stood in for by a function
raising the kind: what is under test is the door's mapping, not how a real server produces the error."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from helpers import ProcessState, run_cli

from provider_helper import terraform
from provider_helper.errors import (
    AnonymousRefusedError,
    AuthenticationError,
    BlobUnknownError,
    DeniedError,
    DigestMismatchError,
    InputError,
    LicenceError,
    ManifestError,
    NotFoundError,
    PlatformMismatchError,
    PolicyError,
    RateLimitError,
    RegistryError,
    SettingError,
    TlsError,
    TooLargeError,
    TransientError,
    UnreachableError,
    UnsupportedError,
)
from provider_helper.usecases import plan as plan_usecase

INPUT_KINDS: list[InputError] = [
    InputError("bad flag"),
    AuthenticationError("nvcr.io", "NGC_API_KEY was refused"),
    LicenceError("accept the licence terms of nvidia/x in the NGC catalog"),
]
REGISTRY_KINDS: list[RegistryError] = [
    kind("what went wrong")
    for kind in (
        RegistryError,
        NotFoundError,
        DeniedError,
        AnonymousRefusedError,
        RateLimitError,
        UnsupportedError,
        BlobUnknownError,
        TooLargeError,
        TransientError,
        UnreachableError,
        TlsError,
        PolicyError,
        DigestMismatchError,
        PlatformMismatchError,
    )
]


@pytest.fixture
def state_put_back() -> Iterator[None]:
    """terraform.main sets the process's logging and wording, as its own process would."""
    saved = ProcessState.save()
    yield
    saved.restore()


def _cli(monkeypatch: pytest.MonkeyPatch, error: Exception) -> tuple[int, list[str]]:
    def raising(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(plan_usecase, "plan", raising)
    done = run_cli("plan", "--target", "registry.example/prefix")
    return done.returncode, done.stderr.splitlines()


def _terraform(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> tuple[int, list[str]]:
    def raising(config: object) -> None:
        raise error

    monkeypatch.setattr(terraform, "plan", raising)
    query = {"mode": "plan", "target_registry": "registry.example", "target_type": "generic"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(query)))
    code = terraform.main([])
    captured = capsys.readouterr()
    assert captured.out == "", "nothing on stdout: the external provider reads an answer only from a success"
    return code, captured.err.splitlines()


@pytest.mark.parametrize("error", [*INPUT_KINDS, *REGISTRY_KINDS], ids=lambda e: type(e).__name__)
def test_every_error_kind_is_one_line_and_its_exit_code_through_both_front_doors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_put_back: None, error: Exception
) -> None:
    """InputError kinds (flags, credentials, licence: README modules "input (exit 2: ... credentials, licence)")
    exit 2; what a store answers exits 1. The CLI writes ``nvcf-mirror: error: …``, the adapter ``nvcf-mirror: …``."""
    code = 2 if isinstance(error, InputError) else 1
    assert _cli(monkeypatch, error) == (code, [f"nvcf-mirror: error: {error}"])
    assert _terraform(monkeypatch, capsys, error) == (code, [f"nvcf-mirror: {error}"])


def test_a_licence_refusal_and_a_refused_key_are_input_not_store_answers() -> None:
    """The user fixes these (accept the terms, set the key): nothing was pushed, exit 2."""
    assert issubclass(LicenceError, InputError) and not issubclass(LicenceError, RegistryError)
    assert issubclass(AuthenticationError, InputError) and not issubclass(AuthenticationError, RegistryError)
    assert issubclass(AnonymousRefusedError, DeniedError)
    assert issubclass(UnreachableError, TransientError), "an unanswered request is retried"


def test_a_manifest_with_several_problems_is_one_line_each_through_both_doors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_put_back: None
) -> None:
    """CONTRACTS: "A manifest with several problems gets one line for each"; as one message it says how many more."""
    problems = ["m.yaml:3: artifacts[0]: no source", "m.yaml:7: artifacts[1]: bad tag", "m.yaml:9: groups[0]: no name"]
    error = ManifestError(problems)
    assert str(error) == "m.yaml:3: artifacts[0]: no source (and 2 more problems)"
    assert str(ManifestError(problems[:1])) == problems[0]
    assert error.problems == tuple(problems)
    assert _cli(monkeypatch, error) == (2, [f"nvcf-mirror: error: {p}" for p in problems])
    assert _terraform(monkeypatch, capsys, error) == (2, [f"nvcf-mirror: {p}" for p in problems])


def test_a_setting_error_is_in_each_doors_words(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_put_back: None
) -> None:
    """errors.SettingError: ``--set-version NAME=…`` on the CLI, ``set_versions["NAME"]`` in Terraform; the
    neutral words where no door applies."""
    error = SettingError("set_versions", "nvcf-cli", "0.0.99 is not published", value="0.0.99")
    assert str(error) == "set_versions nvcf-cli=0.0.99: 0.0.99 is not published"
    assert (
        str(SettingError("groups", "x", "no such group", neutral="m.yaml:3: groups"))
        == "m.yaml:3: groups: no such group"
    )
    assert _cli(monkeypatch, error) == (
        2,
        ["nvcf-mirror: error: --set-version nvcf-cli=0.0.99: 0.0.99 is not published"],
    )
    assert _terraform(monkeypatch, capsys, error) == (
        2,
        ['nvcf-mirror: set_versions["nvcf-cli"] = "0.0.99": 0.0.99 is not published'],
    )


def test_an_authentication_error_names_the_registry_and_the_detail() -> None:
    """README preflight: "authentication failed for nvcr.io (NGC_API_KEY was refused: ...)"."""
    assert str(AuthenticationError("nvcr.io", "NGC_API_KEY was refused")) == (
        "authentication failed for nvcr.io (NGC_API_KEY was refused)"
    )
    assert str(AuthenticationError("registry.example")) == "authentication failed for registry.example"
    assert AuthenticationError("registry.example").registry == "registry.example"


def test_about_keeps_the_kind_and_its_status_and_puts_what_in_front() -> None:
    error = NotFoundError("manifest unknown", status=404, code="MANIFEST_UNKNOWN")
    about = error.about("nvcr.io/nvidia/x:1")
    assert type(about) is NotFoundError and (about.status, about.code) == (404, "MANIFEST_UNKNOWN")
    assert str(about) == "nvcr.io/nvidia/x:1: manifest unknown"
    assert str(error) == "manifest unknown", "the original is left as it was"
    transient = TransientError("503", status=503, retry_after=2.5)
    assert (transient.status, transient.retry_after) == (503, 2.5)
    about_transient = transient.about("blob")
    assert isinstance(about_transient, TransientError) and about_transient.retry_after == 2.5
