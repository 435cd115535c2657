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


def test_platforms_all_selects_whole_indexes_and_a_list_selects_those_platforms() -> None:
    """Module README, Inputs: "`platforms` | Platforms to mirror, or `["all"]` for whole indexes |
    `list(string)` | `["linux/amd64"]`": each branch as the run selects it (None is every platform)."""
    from provider_helper.oci.reference import parse_platform
    from provider_helper.terraform_settings import config_from

    generic = {"target_registry": "registry.example", "target_type": "generic"}
    assert config_from({**generic, "platforms": "all"}).selected_platforms() is None
    listed = config_from({**generic, "platforms": "linux/arm64,linux/amd64"}).selected_platforms()
    assert listed == (parse_platform("linux/arm64"), parse_platform("linux/amd64"))
    assert config_from(generic).selected_platforms() == (parse_platform("linux/amd64"),), "the default"
