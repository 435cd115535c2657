"""wording: how the front doors name settings, and counts in words."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import run_cli, write_manifest

from provider_helper import wording
from provider_helper.wording import plural


def test_a_count_takes_the_noun_in_its_number() -> None:
    assert [plural(n, "group") for n in (0, 1, 2)] == ["0 groups", "1 group", "2 groups"]
    assert plural(1, "repository", "repositories") == "1 repository"
    assert plural(3, "repository", "repositories") == "3 repositories"


def test_manifest_validate_says_1_artifact_in_1_group(tmp_path: Path) -> None:
    entry = {"type": "image", "source": "nvcr.io/org/team/x:1", "group": "test"}
    manifest = write_manifest(tmp_path / "m.yaml", [entry])
    done = run_cli("manifest", "validate", str(manifest))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{manifest}: ok (1 artifact in 1 group)"]


MODULE_VARIABLES = set(
    re.findall(
        r'^variable "(\w+)"',
        (Path(__file__).resolve().parents[1] / "terraform/modules/nvcf-mirror/variables.tf").read_text(),
        re.M,
    )
)


def test_in_terraform_every_setting_is_named_as_a_module_variable_never_a_flag() -> None:
    """module README: "every message that names a setting uses the module's variables (repository_prefix, ca_file),
    never the CLI's flags"; a bad entry of set_versions, groups, exclude or platforms is named as that variable."""
    try:
        wording.use(wording.TERRAFORM)
        for name, (_, terraform_words) in wording.SETTINGS.items():
            if name in MODULE_VARIABLES:
                assert terraform_words is not None, f"{name} is a module variable: messages must name it so"
            if terraform_words is None:
                continue
            words = wording.setting(name)
            assert not words.startswith("--"), name
            variables = re.split(r"[/ ]", words)[0::2] if "/" in words else [words.split(" ")[0]]
            assert set(variables) <= MODULE_VARIABLES, (name, words)
        named = {n: wording.setting(n) for n in ("ca_file", "excludes", "set_versions", "groups", "platforms")}
        assert named == {
            "ca_file": "ca_file",
            "excludes": "exclude",
            "set_versions": "set_versions",
            "groups": "groups",
            "platforms": "platforms",
        }
        assert wording.setting("create_repos") == "create_sm_ecr_repos"
        assert wording.setting("all_groups") == "--all-groups", "no module variable: the flag's words"
    finally:
        wording.use(wording.CLI)
    assert wording.setting("ca_file") == "--ca-file" and wording.setting("excludes") == "--exclude"
