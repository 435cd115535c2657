"""Unit tests of provider_helper/importers.py: ``manifest import`` of a skopeo sync file or a list of references
(NVIDIA's page is importers_nvcf's). README: "manifest import puts every imported artifact in one group,
--group NAME (default imported)", and the group is what a plan of the imported manifest selects."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

from provider_helper import importers
from provider_helper import manifest as manifest_mod
from provider_helper.errors import InputError

DIGEST = "sha256:" + "0f" * 32


def test_a_reference_list_skips_blank_lines_and_hash_comments_and_writes_full_references() -> None:
    text = "# images for the lab\n\nnvcr.io/nvidia/nvcf/nvcf-api:1.27.1   # the API\n  nats:2.10.21-alpine\n"
    doc = importers.from_text(text, "refs.txt", "lab")
    assert doc == {
        "apiVersion": "nvcf-mirror/v1",
        "groups": [{"name": "lab", "default": True, "description": "imported from refs.txt"}],
        "artifacts": [
            {"type": "image", "source": "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1", "group": "lab"},
            {"type": "image", "source": "docker.io/library/nats:2.10.21-alpine", "group": "lab"},
        ],
    }


def test_the_imported_group_is_selected_by_default_so_a_plan_of_the_import_takes_every_artifact() -> None:
    doc = importers.from_text(
        "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1\nnvcr.io/nvidia/nvcf/nvcf-grpc:1.2\n", "r", "imported"
    )
    loaded = manifest_mod.parse(yaml.safe_dump(doc), "imported.yaml")
    assert loaded.default_groups == ["imported"]
    assert [a.key for a in loaded.select()] == ["image:nvcf-api:1.27.1", "image:nvcf-grpc:1.2"]


def test_a_bad_reference_line_is_one_line_naming_the_file_and_its_line() -> None:
    with pytest.raises(InputError) as caught:
        importers.from_text("nvcr.io/nvidia/a:1\n# fine\nnvcr.io/nvidia/B@sha256:zz\n", "refs.txt", "g")
    assert str(caught.value).startswith("refs.txt:3: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_a_file_with_no_references_is_one_line_naming_it(text: str) -> None:
    with pytest.raises(InputError) as caught:
        importers.from_text(text, "empty.txt", "g")
    assert str(caught.value) == "empty.txt: no image references found"


def test_a_skopeo_sync_file_gives_each_tag_and_digest_and_warns_about_what_needs_the_registry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync = {
        "nvcr.io": {
            "images": {"nvidia/nvcf/nvcf-api": ["1.27.1", DIGEST], "nvidia/nvcf/all-tags": []},
            "images-by-tag-regex": {"nvidia/nvcf/nvcf-grpc": "^1\\."},
            "images-by-semver": {"nvidia/nvcf/nvcf-cli": ">= 1.0"},
        }
    }
    with caplog.at_level(logging.WARNING, logger="nvcf-mirror"):
        doc = importers.from_text(yaml.safe_dump(sync), "sync.yaml", "imported")
    assert [a["source"] for a in doc["artifacts"]] == [
        "nvcr.io/nvidia/nvcf/nvcf-api:1.27.1",
        f"nvcr.io/nvidia/nvcf/nvcf-api@{DIGEST}",
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "sync.yaml: nvcr.io/nvidia/nvcf/nvcf-grpc uses images-by-tag-regex; list its tags under 'images' to import it",
        "sync.yaml: nvcr.io/nvidia/nvcf/nvcf-cli uses images-by-semver; list its tags under 'images' to import it",
        "sync.yaml: nvcr.io/nvidia/nvcf/all-tags lists no tags (all tags); name them to import it",
    ]


def test_a_skopeo_sync_file_that_is_not_one_is_one_line_naming_the_file_and_the_registry() -> None:
    with pytest.raises(InputError) as caught:
        importers.from_text(yaml.safe_dump({"nvcr.io": ["a", "b"]}), "sync.yaml", "g")
    assert str(caught.value) == "sync.yaml: nvcr.io: expected a mapping with 'images' (skopeo sync format)"


def test_manifest_import_writes_one_group_named_imported_by_default_or_the_group_given(tmp_path: Path) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text("nvcr.io/nvidia/nvcf/nvcf-api:1.27.1\n")
    done = run_cli("manifest", "import", str(refs))
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["groups"] == [
        {"name": "imported", "default": True, "description": f"imported from {refs}"}
    ]
    out = tmp_path / "m.yaml"
    done = run_cli("manifest", "import", str(refs), "--group", "lab", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    plan = run_cli("plan", "--offline", "--output", "json", "--manifest", str(out), "--target", "r.example/p")
    assert plan.returncode == 0, plan.stderr
    assert [(a["group"], a["key"]) for a in json.loads(plan.stdout)["artifacts"]] == [("lab", "image:nvcf-api:1.27.1")]
