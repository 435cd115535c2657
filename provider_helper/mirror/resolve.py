"""Resolve a source reference to what the target tag must point at, for the requested platforms.

Shared by plan (digests), mirror (what to push) and verify (what to expect).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from provider_helper.content.store import Reader
from provider_helper.errors import PlatformMismatchError, RegistryError
from provider_helper.oci.limits import MAX_CONFIG_BYTES
from provider_helper.oci.manifest import ATTESTATION_REF, Descriptor, Manifest
from provider_helper.oci.reference import Platform, Reference


@dataclass
class Selection:
    """What the target tag will point at, and every manifest it needs, children before parents."""

    top: Manifest
    children: list[Manifest]
    platforms: list[str]
    note: str | None = None


@dataclass
class Resolved:
    """What the target tag must point at, known from the source's top manifest alone (one request),
    and how to fetch everything it needs when it has to be copied."""

    digest: str | None  # None: known only once materialized (an NGC resource is its files)
    platforms: list[str]
    note: str | None
    materialize: Callable[[], Selection]
    matches: Callable[[Manifest], bool] | None = None  # with no digest: is the target's manifest this artifact?
    signed: tuple[str, ...] = ()  # digests whose signatures and referrers travel with the artifact
    cut_from: str | None = (
        None  # the source index a platform subset was taken from (its signatures do not cover the subset)
    )
    check_platform: Callable[[], list[str]] | None = None  # a single image: read its config, refuse a wrong arch
    # (with --all-platforms: only its platform, which plan shows)


def resolve(source: Reader, ref: Reference, platforms: tuple[Platform, ...] | None) -> Resolved:
    """``platforms`` None copies an index whole; one platform picks its image manifest; several, a new index,
    unless they name every image platform the index has (its attestation entries are not platforms): then the
    index is copied whole, as it was signed."""
    repo = ref.repository
    top = source.get_manifest(repo, ref.reference)
    if not top.is_index:
        platform = functools.cache(lambda: image_platform(source, repo, top, platforms))  # one config read
        # plan and dry runs: the platform checked as the copy checks it, or with --all-platforms only read
        shown = platform if platforms is not None else functools.cache(lambda: config_platform(source, repo, top))
        return Resolved(
            top.digest, [], None, lambda: Selection(top, [], platform()), signed=(top.digest,), check_platform=shown
        )
    images = [d for d in top.children if not d.is_attestation]

    def whole(names: list[str]) -> Resolved:
        return Resolved(
            top.digest,
            names,
            None,
            lambda: Selection(top, [_child(source, repo, d) for d in top.children], names),
            signed=(top.digest, *(d.digest for d in top.children)),
        )

    if platforms is None:
        return whole([str(d.platform) for d in images if d.platform])
    chosen: list[Descriptor] = []
    for wanted in platforms:
        match = next(
            (
                d
                for d in images
                if d.platform and wanted.matches(d.platform.os, d.platform.architecture, d.platform.variant)
            ),
            None,
        )
        if match is None:
            available = ", ".join(str(d.platform) for d in images if d.platform) or "none"
            raise PlatformMismatchError(f"the source has no {wanted} image (it has: {available})")
        if match not in chosen:
            chosen.append(match)
    names = [str(d.platform) for d in chosen]
    if len(chosen) == 1:
        return Resolved(
            chosen[0].digest,
            names,
            None,
            lambda: Selection(_child(source, repo, chosen[0]), [], names),
            signed=(chosen[0].digest,),
            cut_from=top.digest,
        )
    if len(chosen) == len(images):
        return whole(names)
    keep = {d.digest for d in chosen}
    raw = [
        d
        for d in top.body["manifests"]
        if d["digest"] in keep or (d.get("annotations") or {}).get(ATTESTATION_REF) in keep
    ]
    index = Manifest.from_bytes(
        json.dumps({**top.body, "manifests": raw}, separators=(",", ":")).encode(), top.media_type
    )
    if index.digest == top.digest:  # what was left out wrote nothing (never in practice, but then nothing differs)
        return whole(names)
    note = f"new index for {', '.join(names)}: its digest differs from the source index {top.digest}"
    return Resolved(
        index.digest,
        names,
        note,
        lambda: Selection(index, [_child(source, repo, Descriptor.from_json(d)) for d in raw], names, note),
        signed=tuple(d["digest"] for d in raw),
        cut_from=top.digest,
    )


def _child(source: Reader, repo: str, descriptor: Descriptor) -> Manifest:
    child = source.get_manifest(repo, descriptor.digest)
    if child.is_index:
        raise RegistryError(f"nested index {descriptor.digest} in {repo} is not supported")
    return child


def image_platform(client: Reader, repo: str, image: Manifest, platforms: tuple[Platform, ...] | None) -> list[str]:
    """Read a single image's platform from its config; it must be one of ``platforms`` when given.

    This is where ``exec format error`` is caught: before the image reaches the cluster."""
    if not image.is_image or image.config is None or platforms is None:
        return []
    found = _platform_in_config(client, repo, image)
    if not any(p.matches(found.os, found.architecture, found.variant) for p in platforms):
        wanted = " or ".join(map(str, platforms))
        raise PlatformMismatchError(f"{found} image where {wanted} is expected: pods would fail with exec format error")
    return [str(found)] if found.os else []


def config_platform(client: Reader, repo: str, image: Manifest) -> list[str]:
    """The platform a single image's config names (``[]`` for an artifact, such as a Helm chart)."""
    if not image.is_image or image.config is None:
        return []
    found = _platform_in_config(client, repo, image)
    return [str(found)] if found.os else []


def _platform_in_config(client: Reader, repo: str, image: Manifest) -> Platform:
    assert image.config is not None
    config = json.loads(client.read_blob(repo, image.config.digest, MAX_CONFIG_BYTES))
    return Platform(config.get("os", ""), config.get("architecture", ""), config.get("variant") or None)
