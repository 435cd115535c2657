"""provider_helper/envvars.py: the numeric ``NVCF_MIRROR_*`` settings, read and checked in one place."""

from __future__ import annotations

import pytest
from helpers import run_cli

from provider_helper import envvars
from provider_helper.errors import InputError

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/p"


def test_a_zero_minimum_blob_rate_is_off_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Limits: "NVCF_MIRROR_MIN_BLOB_RATE (bytes/s, 0: off)": 0 is a value the setting takes."""
    monkeypatch.setenv("NVCF_MIRROR_MIN_BLOB_RATE", "0")
    assert envvars.number("NVCF_MIRROR_MIN_BLOB_RATE") == 0.0
    envvars.check()
    done = run_cli("plan", "--offline", "--target", ECR, env={"NVCF_MIRROR_MIN_BLOB_RATE": "0"})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", sorted(envvars.DEFAULTS))
def test_a_numeric_setting_that_is_not_a_number_is_refused_not_replaced_by_its_default(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """README Environment variables: "a numeric one that is not a number is one line, exit 2, before
    anything runs": "ten" is refused, never read as the default."""
    monkeypatch.setenv(name, "ten")
    with pytest.raises(InputError) as refused:
        envvars.number(name)
    assert str(refused.value) == f"{name}='ten': expected a number, 0 or more"
    done = run_cli("plan", "--offline", "--target", ECR, env={name: "ten"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"nvcf-mirror: error: {name}='ten': expected a number, 0 or more"]
    assert done.stdout == ""
