"""importers_nvcf: NVIDIA's artifact-manifest pages as manifests; the bundled releases are imports of the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli

from provider_helper import importers_nvcf
from provider_helper import manifest as manifest_mod
from provider_helper.errors import InputError

PAGES = Path(__file__).resolve().parent / "data" / "nvidia-manifest"


def _import(page: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / f"{page.stem}.yaml"
    done = run_cli("manifest", "import", str(page), "--output", str(out))
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = yaml.safe_load(out.read_text())
    return doc


@pytest.mark.parametrize("release", ["v0.6.0", "v0.6.1", "v1.0"])
def test_an_import_of_each_page_from_v060_on_equals_the_bundled_manifest(release: str, tmp_path: Path) -> None:
    imported = _import(PAGES / f"{release}.md", tmp_path)
    assert imported == yaml.safe_load(manifest_mod.bundled_path(release).read_text())


def _identity(entry: dict[str, Any]) -> tuple[str, str, str | None]:
    return entry["type"], entry.get("source") or f"{entry['repo']}/{entry['chart']}", entry.get("name")


def test_an_import_of_the_v05_page_gives_the_artifacts_of_the_bundled_v05_list(tmp_path: Path) -> None:
    imported = _import(PAGES / "v0.5.md", tmp_path)["artifacts"]
    bundled = yaml.safe_load(manifest_mod.bundled_path("v0.5").read_text())["artifacts"]
    assert [_identity(e) for e in imported] == [_identity(e) for e in bundled]
    for mine, theirs in zip(imported, bundled, strict=True):
        if "version" in mine or "version" not in theirs:
            assert mine.get("version") == theirs.get("version"), mine
        else:  # the page pins no gpu-operator version; the bundled list takes the mirroring page's
            assert mine["needs_version"] and mine["chart"] == "gpu-operator" and theirs["version"] == "25.3.1"
    groups = {e["group"] for e in bundled}
    assert {e["group"] for e in imported} == groups, "the page's headings give the bundled list's group names"


PAGE = """# Artifact Manifest

Prose the importer must skip, with a table that is not an artifact table:

| Value | Default image |
| --- | --- |
| `nats.reloader.image` | `docker.io/natsio/nats-server-config-reloader:0.24.0` |

### Control plane Helm charts

| Artifact | Version | Stack | Required | Description | Distribution | Source code |
| --- | --- | --- | --- | --- | --- | --- |
| `helm-nvcf-api` | `1.27.1` | `self-managed` | Required | Deploys | \
`https://helm.ngc.nvidia.com/nvidia/nvcf/helm-nvcf-api:1.27.1` |  |
| `ebs-csi-driver` | `supported` | Independent | Optional | EBS | \
`https://kubernetes-sigs.github.io/aws-ebs-csi-driver` | [Upstream](https://x) |
| `kai-scheduler` | `v0.17.1` | `compute-plane` | Optional | KAI | \
`oci://ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler:v0.17.1` | |

### Control plane services and images

| Artifact | Version | Required | Description | Distribution | Source code |
| --- | --- | --- | --- | --- | --- |
| `k8s` | `1.37.0` | Required | Tools | `docker.io/alpine/k8s:1.37.0` | |
| `nvcf-openbao` | `2.5.4-nv-1.3.0` | Required | Secrets | \
`nvcr.io/0833294136851237/selfhosted-ga/nvcf-openbao:2.5.4-nv-1.3.0-ea` | |
| `gpu-operator-validator` | `supported` | Required | Validates | \
`https://catalog.ngc.nvidia.com/orgs/nvidia/teams/cloud-native/containers/gpu-operator-validator` | |

### Cross-stack services and images

| Artifact | Version | Stack | Required | Description | Distribution | Source code |
| --- | --- | --- | --- | --- | --- | --- |
| `nats-server-config-reloader` | `0.24.0` | `compute-plane` / `self-managed` | Required | Reloads | \
`docker.io/natsio/nats-server-config-reloader:0.24.0` | |

### Tools and deployment resources

| Artifact | Version | Stack | Description | Distribution | Source code |
| --- | --- | --- | --- | --- | --- |
| `nvcf-self-managed-stack` | `1.0.1` | `self-managed` | Bundle | \
`nvcr.io/nvidia/nvcf/nvcf-self-managed-stack:1.0.1` | |
"""


def test_a_page_with_prose_and_description_columns_tells_every_kind_of_row_apart_by_its_distribution() -> None:
    doc = importers_nvcf.from_page(PAGE, "page.md")
    by_name = {
        e.get("name") or e.get("chart") or e["source"].rsplit("/", 1)[-1].split(":")[0]: e for e in doc["artifacts"]
    }
    assert len(doc["artifacts"]) == 8, "the value table and the prose are no artifacts"
    assert by_name["helm-nvcf-api"] == {
        "type": "chart",
        "repo": "https://helm.ngc.nvidia.com/nvidia/nvcf",
        "chart": "helm-nvcf-api",
        "version": "1.27.1",
        "group": "self-managed",
    }
    # a bare repository URL: a chart named by the row, under its name in that repository
    ebs = by_name["aws-ebs-csi-driver"]
    assert (ebs["repo"], ebs["needs_version"]) == ("https://kubernetes-sigs.github.io/aws-ebs-csi-driver", True)
    assert ebs["group"] == "independent-optional"
    assert by_name["kai-scheduler"] == {
        "type": "chart",
        "source": "ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler:v0.17.1",
        "group": "compute-plane-optional",
    }
    assert by_name["alpine-k8s"]["source"] == "docker.io/alpine/k8s:1.37.0", "lands where the Helmfile values expect it"
    assert by_name["nats-server-config-reloader"]["group"] == "cross-stack"
    openbao = by_name["nvcf-openbao"]
    assert openbao["source"].endswith(":2.5.4-nv-1.3.0-ea") and "Version column says 2.5.4-nv-1.3.0" in openbao["note"]
    assert openbao["group"] == "self-managed", "without a Stack column the heading names the stack"
    validator = by_name["gpu-operator-validator"]
    assert (
        validator["source"] == "nvcr.io/nvidia/cloud-native/gpu-operator-validator"
        and validator["needs_version"] is True
    )
    assert "--set-version gpu-operator-validator=VERSION" in validator["note"]
    assert by_name["nvcf-self-managed-stack"] == {
        "type": "resource",
        "source": "nvidia/nvcf/nvcf-self-managed-stack:1.0.1",
        "group": "deployment-resources",
    }
    defaults = {g["name"]: g["default"] for g in doc["groups"]}
    assert defaults == {
        "self-managed": True,
        "independent-optional": False,
        "compute-plane-optional": False,
        "cross-stack": True,
        "deployment-resources": False,
    }
    manifest_mod.parse(yaml.safe_dump(doc), "page.md")  # what the import writes loads


def test_a_row_that_cannot_be_read_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "### Tools and deployment resources\n\n| Artifact | Version | Distribution |\n| --- | --- | --- |\n"
        "| `nvcf-cli` | `1.0` | `nvcr.io/nvcf-cli` |\n"
    )
    with pytest.raises(InputError, match=r"page\.md:5: resource 'nvcr\.io/nvcf-cli': expected"):
        importers_nvcf.from_page(page.read_text(), str(page))
    done = run_cli("manifest", "import", str(page))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and f"{page}:5:" in done.stderr, (
        done.stderr
    )


def _rows(page: Path) -> set[tuple[str, str, str, str]]:
    """(artifact, version, required, distribution) of every row of a page's facts."""
    found, columns = set(), None
    for line in page.read_text().splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        if columns is None:
            columns = [c.lower() for c in cells]
        elif not cells[0].startswith("---"):
            row = dict(zip(columns, cells, strict=True))
            found.add((row["artifact"], row["version"], row.get("required", ""), row["distribution"]))
    return found


def test_the_v061_facts_match_the_independent_transcription_of_the_page() -> None:
    """tests/data/nvcf-artifacts-v0.6.1.yaml was transcribed from the page by hand; the facts file by a script."""
    transcribed = yaml.safe_load((PAGES.parent / "nvcf-artifacts-v0.6.1.yaml").read_text())["groups"]
    expected = {
        (e["artifact"], str(e["version"]), e.get("required", ""), e["distribution"])
        for entries in transcribed.values()
        for e in entries
    }
    assert _rows(PAGES / "v0.6.1.md") == expected
