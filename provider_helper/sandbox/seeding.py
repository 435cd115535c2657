"""Stand-ins for a whole selection of a bundled release: images and OCI charts on every registry it names,
classic Helm repositories laid out as their hosts lay them out, and NGC resources' files.

What each upstream becomes is the caller's choice: ``registries`` maps an upstream host (``docker.io``,
``ghcr.io``) to the Factory of the local registry standing in for it (``default`` for the rest); the
classic repositories are written under ``helm_root/<host>/<path>/`` (``index.yaml`` and ``charts/``),
so a plain file server rooted at ``helm_root/<host>`` answers the repository URL's path; resources are
returned as ``"org/team/name:version" -> {path: bytes}``, what an NGC API stand-in serves.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from provider_helper.artifacts import Artifact
from provider_helper.sandbox.images import Factory, Pushed, chart_archive
from provider_helper.sandbox.stack import seed


@dataclass
class Seeded:
    pushed: dict[str, Pushed] = field(default_factory=dict)  # images and OCI charts, by artifact key
    helm_repositories: dict[str, Path] = field(default_factory=dict)  # classic repository URL -> its folder
    resources: dict[str, dict[str, bytes]] = field(default_factory=dict)  # "org/team/name:version" -> files
    skipped: list[str] = field(default_factory=list)  # keys of artifacts without a version: nothing to seed


def seed_selection(
    artifacts: Iterable[Artifact],
    default: Factory,
    helm_root: Path,
    registries: Mapping[str, Factory] | None = None,
    layer_size: int = 16 * 1024,
) -> Seeded:
    """Seed every artifact of ``artifacts`` (a bundled release's selection) where its kind is served."""
    seeded = Seeded()
    by_factory: dict[int, tuple[Factory, list[Artifact]]] = {}
    for artifact in artifacts:
        if artifact.needs_version:
            seeded.skipped.append(artifact.key)
        elif artifact.image is not None:
            factory = (registries or {}).get(artifact.image.registry, default)
            by_factory.setdefault(id(factory), (factory, []))[1].append(artifact)
        elif artifact.resource is not None:
            seeded.resources[str(artifact.resource)] = _resource_files(artifact)
        else:
            seeded.helm_repositories[artifact.repo or ""] = _publish_chart(helm_root, artifact)
    for factory, members in by_factory.values():
        seeded.pushed.update(seed(factory, members, layer_size))
    return seeded


def _publish_chart(helm_root: Path, artifact: Artifact) -> Path:
    """The chart's archive in ``charts/`` and its entry in ``index.yaml``, as helm.ngc.nvidia.com lays them out."""
    url = urlsplit(artifact.repo or "")
    folder = helm_root / url.netloc / url.path.strip("/")
    (folder / "charts").mkdir(parents=True, exist_ok=True)
    chart, version = artifact.chart or artifact.name, artifact.version or ""
    chart_yaml = f"apiVersion: v2\nname: {chart}\nversion: {version}\ndescription: stand-in\n"
    # what `helm template` renders from the mirror
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n"
        "data:\n  a: {{ .Values.a | quote }}\n"
    )
    files = {"Chart.yaml": chart_yaml, "values.yaml": "a: 1\n", "templates/configmap.yaml": configmap}
    archive = chart_archive(chart, files)
    filename = f"{chart}-{version}.tgz"
    (folder / "charts" / filename).write_bytes(archive)
    index_path = folder / "index.yaml"
    index: dict[str, Any] = (
        yaml.safe_load(index_path.read_text()) if index_path.exists() else {"apiVersion": "v1", "entries": {}}
    )
    entry = {
        "name": chart,
        "version": version,
        "urls": [f"charts/{filename}"],
        "digest": hashlib.sha256(archive).hexdigest(),
        "created": "2026-01-01T00:00:00Z",
    }
    index["entries"].setdefault(chart, []).insert(0, entry)
    index_path.write_text(yaml.safe_dump(index))
    return folder


def _resource_files(artifact: Artifact) -> dict[str, bytes]:
    """One small ``.tar.gz``, as NVIDIA publishes the stacks' Helmfile bundles."""
    assert artifact.resource is not None
    name, version = artifact.resource.name, artifact.resource.version
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = f"{name} {version}\n".encode()
        info = tarfile.TarInfo(f"{name}/VERSION")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return {f"{name}-{version}.tar.gz": buffer.getvalue()}
