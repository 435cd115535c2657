"""Unit tests of provider_helper/terraform_settings.py: the module's variables read into a run, and their
errors worded as those variables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from provider_helper import wording
from provider_helper.aws.ecr import RepositorySettings
from provider_helper.errors import InputError, SettingError
from provider_helper.terraform_settings import config_from, in_variables, read_query, repository_settings

GENERIC = {"target_registry": "registry.example", "target_type": "generic", "repository_prefix": "prefix"}


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


def test_platforms_all_is_every_platform_and_a_list_is_those_platforms() -> None:
    """module README: platforms "Platforms to mirror, or ["all"] for whole indexes" (default ["linux/amd64"])."""
    every = config_from({**GENERIC, "platforms": "all"})
    assert (every.platforms, every.all_platforms, every.selected_platforms()) == ((), True, None)
    some = config_from({**GENERIC, "platforms": "linux/amd64, linux/arm64"})
    assert (some.platforms, some.all_platforms) == (("linux/amd64", "linux/arm64"), False)
    unset = config_from(GENERIC)
    assert (unset.platforms, unset.all_platforms) == ((), False)


def test_the_query_is_one_json_object_of_strings_with_known_keys() -> None:
    """CONTRACTS Terraform: the adapter "answers the external data source" (whose query is a map of strings)."""
    assert read_query('{"mode": "plan"}') == {"mode": "plan"}
    assert read_query("") == {}
    for text, line in (
        ("not json", "the query on stdin is not JSON"),
        ('["mode"]', "the query must be a JSON object"),
        ('{"groups": ["a"], "mode": 1}', "query values must be strings; not a string: groups, mode"),
        ('{"mode": "plan", "bogus": "x", "also": "y"}', "unknown query keys: also, bogus"),
    ):
        with pytest.raises(InputError) as refused:
            read_query(text)
        assert str(refused.value) == line


def test_the_settings_each_variable_carries_and_their_defaults() -> None:
    config = config_from(
        {
            **GENERIC,
            "groups": "a, b",
            "exclude": "x",
            "set_versions": json.dumps({"nvcf-cli": "latest"}),
            "source_map": json.dumps({"docker.io": "mirror.example/hub"}),
            "insecure_registries": "mirror.example",
            "signatures": "false",
        }
    )
    assert (config.target, config.groups, config.excludes, config.set_versions) == (
        "registry.example/prefix",
        ("a", "b"),
        ("x",),
        ("nvcf-cli=latest",),
    )
    assert (config.source_map, config.insecure_registries, config.signatures) == (
        ("docker.io=mirror.example/hub",),
        ("mirror.example",),
        False,
    )
    unset = config_from({"target_registry": "registry.example", "target_type": "generic"})
    assert (unset.target, unset.signatures, unset.manifest, unset.release, unset.ca_file) == (
        "registry.example",
        True,
        None,
        None,
        None,
    ), "copy_signatures defaults to true; no prefix is the registry itself"
    with pytest.raises(InputError) as refused:
        config_from({"target_type": "generic"})
    assert str(refused.value) == "target_registry is required for a generic target"
    with pytest.raises(InputError) as refused:
        config_from({})
    assert str(refused.value) == "aws_region is required to name the ECR registry"
    with pytest.raises(InputError) as refused:
        config_from({**GENERIC, "set_versions": '["x"]'})
    assert str(refused.value) == "set_versions must be a JSON object of strings"


def test_repository_settings_default_to_scan_on_push_mutable_aes256() -> None:
    """module README inputs: scan_on_push true, image_tag_mutability "MUTABLE", encryption_type "AES256"."""
    assert repository_settings({}) == RepositorySettings(True, "MUTABLE", "AES256", None, {}, None)
    assert repository_settings({"scan_on_push": "false", "tag_mutability": "IMMUTABLE"}).scan_on_push is False


def test_each_selection_and_connection_variable_reaches_the_run(tmp_path: Path) -> None:
    """module README Inputs: manifest_path, release, source_registry, ca_file, aws_region, target_type reach the run
    the plan and the apply step work on, as the CLI's --manifest, --release, --source-registry, --ca-file, --aws-region
    and --target-type."""
    ca = tmp_path / "ca.pem"
    config = config_from(
        {
            **GENERIC,
            "manifest_path": "/m.yaml",
            "source_registry": "mirror.example:5000",
            "ca_file": str(ca),
            "aws_region": "eu-west-1",
        }
    )
    assert (config.manifest, config.source_registry, config.ca_file, config.aws_region, config.target_type) == (
        "/m.yaml",
        "mirror.example:5000",
        str(ca),
        "eu-west-1",
        "generic",
    )
    assert config_from({**GENERIC, "release": "v1.0"}).release == "v1.0"
    ecr = config_from({"target_registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com", "repository_prefix": "c"})
    assert (ecr.target, ecr.target_type) == ("123456789012.dkr.ecr.us-east-1.amazonaws.com/c", "ecr")


MAIN_TF = (Path(__file__).resolve().parents[1] / "terraform/modules/nvcf-mirror/main.tf").read_text()


def test_every_key_the_module_sends_is_a_key_the_adapter_reads() -> None:
    """The module's queries (plan, status) and the apply step's NVCF_MIRROR_SETTINGS, read from main.tf: each key is
    taken (an unknown one would fail the plan with "unknown query keys")."""
    selection = re.search(r"selection = \{(.*?)\n  \}", MAIN_TF, re.S)
    assert selection is not None
    keys = set(re.findall(r"^\s+(\w+)\s+=", selection[1], re.M))
    for merged in re.findall(r"merge\(local\.selection, \{(.*?)\}\)", MAIN_TF, re.S):
        keys |= set(re.findall(r"(\w+)\s+=", merged))
    assert {"mode", "target_registry", "mirror_id", "create_repos", "prune_superseded", "signatures"} <= keys, keys
    assert read_query(json.dumps(dict.fromkeys(keys, ""))) == dict.fromkeys(keys, "")
