"""Turn lists people already have (NVIDIA's artifact-manifest page, a skopeo sync YAML, a file of references)
into a manifest."""

from __future__ import annotations

import logging
from typing import Any

import yaml

from provider_helper import importers_nvcf, yamlload
from provider_helper.errors import InputError
from provider_helper.oci.reference import parse_reference

log = logging.getLogger("nvcf-mirror")


def from_text(text: str, origin: str, group: str) -> dict[str, Any]:
    """NVIDIA's artifact-manifest page (its groups come from the page, not ``group``), a skopeo sync
    YAML file, or one image reference per line (``#`` starts a comment)."""
    if importers_nvcf.looks_like_page(text):
        return importers_nvcf.from_page(text, origin)
    try:
        data = yamlload.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        sources = _skopeo_sync(data, origin)
    else:
        sources = _reference_lines(text, origin)
    if not sources:
        raise InputError(f"{origin}: no image references found")
    return {
        "apiVersion": "nvcf-mirror/v1",
        "groups": [{"name": group, "default": True, "description": f"imported from {origin}"}],
        "artifacts": [{"type": "image", "source": s, "group": group} for s in sources],
    }


def _reference_lines(text: str, origin: str) -> list[str]:
    sources = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            sources.append(str(parse_reference(line)))
        except InputError as exc:
            raise InputError(f"{origin}:{number}: {exc}") from None
    return sources


def _skopeo_sync(data: dict[str, Any], origin: str) -> list[str]:
    """``REGISTRY: {images: {REPO: [TAG|DIGEST, …]}}``; what needs the registry to expand is left out with a warning."""
    sources = []
    for registry, spec in data.items():
        if not isinstance(spec, dict):
            raise InputError(f"{origin}: {registry}: expected a mapping with 'images' (skopeo sync format)")
        for key in ("images-by-tag-regex", "images-by-semver"):
            for repo in spec.get(key) or {}:
                log.warning("%s: %s/%s uses %s; list its tags under 'images' to import it", origin, registry, repo, key)
        for repo, tags in (spec.get("images") or {}).items():
            if not tags:
                log.warning("%s: %s/%s lists no tags (all tags); name them to import it", origin, registry, repo)
                continue
            for tag in tags:
                separator = "@" if str(tag).startswith("sha256:") else ":"
                text = f"{registry}/{repo}{separator}{tag}"
                try:
                    sources.append(str(parse_reference(text)))
                except InputError as exc:
                    raise InputError(f"{origin}: {registry}: images.{repo}: {exc}") from None
    return sources
