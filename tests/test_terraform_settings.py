"""Unit tests of provider_helper/terraform_settings.py: the module's variables read into a run, and their
errors worded as those variables."""

from __future__ import annotations

import pytest

from provider_helper import wording
from provider_helper.errors import SettingError
from provider_helper.terraform_settings import in_variables


def test_a_bad_set_versions_entry_is_named_as_the_variable_item_with_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module README: "A bad entry of `set_versions`, `groups`, `exclude` or `platforms` fails the plan with one
    line naming it as the variable (`set_versions["nvcf-cli"] = "0.0.99": ...`)"."""
    monkeypatch.setattr(wording, "_door", wording.TERRAFORM)
    error = SettingError("set_versions", "nvcf-cli", "no such version", value="0.0.99")
    assert in_variables(error) == 'set_versions["nvcf-cli"] = "0.0.99": no such version'
    assert in_variables(SettingError("groups", "gpu", "unknown group")) == 'groups["gpu"]: unknown group'
