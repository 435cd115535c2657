"""sandbox.seeding: stand-ins for a whole selection of a bundled release, every kind of artifact it holds."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from provider_helper import manifest as manifest_mod
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.seeding import seed_selection
from provider_helper.sandbox.stack import Sandbox


def test_every_artifact_of_the_v10_release_is_seeded_where_its_kind_is_served(
    sandbox: Sandbox, source: Factory, tmp_path: Path
) -> None:
    artifacts = manifest_mod.load(release="v1.0").select(all_groups=True)
    seeded = seed_selection(artifacts, source, tmp_path / "helm")
    images = [a for a in artifacts if a.image is not None and not a.needs_version]
    classic = [a for a in artifacts if a.is_classic_chart and not a.needs_version]
    resources = [a for a in artifacts if a.resource is not None]
    assert {a.image.registry for a in images if a.image} == {"nvcr.io", "docker.io", "ghcr.io", "quay.io"}
    assert set(seeded.pushed) == {a.key for a in images} and len(images) == 53
    assert set(seeded.resources) == {str(a.resource) for a in resources} and len(resources) == 4
    assert len(seeded.skipped) == 7 and len(classic) == 35 and len(artifacts) == 53 + 35 + 4 + 7
    # each at its own repository path, as the upstream names it, with the digest seeding reports
    for artifact in images:
        assert artifact.image is not None
        repo, tag = artifact.image.repository, artifact.image.tag
        answer = httpx.head(
            f"{sandbox.source.url}/v2/{repo}/manifests/{tag}",
            headers={
                "Authorization": "Bearer " + sandbox.tokens.mint([repo]),
                "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
                "application/vnd.docker.distribution.manifest.list.v2+json, "
                "application/vnd.docker.distribution.manifest.v2+json",
            },
        )
        assert (
            answer.status_code == 200 and answer.headers["docker-content-digest"] == seeded.pushed[artifact.key].digest
        ), artifact.key
    for artifact in classic:  # laid out as the host lays it out: <repository path>/index.yaml and charts/
        folder = seeded.helm_repositories[artifact.repo or ""]
        assert folder == tmp_path / "helm" / (artifact.repo or "").split("://", 1)[1]
        entries = yaml.safe_load((folder / "index.yaml").read_text())["entries"][artifact.chart]
        entry = next(e for e in entries if e["version"] == artifact.version)
        assert (folder / entry["urls"][0]).is_file()
    assert seeded.resources["nvidia/nvcf/nvcf-self-managed-stack:1.0.1"].keys() == {
        "nvcf-self-managed-stack-1.0.1.tar.gz"
    }
