"""mirror/prune.py: the repositories a prune may touch, and what plan_prune decides to remove (against the
in-memory content store of test_engine: the decision reads the target only)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import boto3
import pytest
from test_engine import MemoryStore, _image

from provider_helper.errors import InputError
from provider_helper.mirror.prune import EcrRemover, Removal, plan_prune, repositories_to_prune
from provider_helper.oci.manifest import OCI_INDEX, OCI_MANIFEST, Manifest
from provider_helper.sandbox.aws import REGION
from provider_helper.sandbox.stack import Sandbox

REPO = "p/app"


def test_prune_never_leaves_the_prefix() -> None:
    assert repositories_to_prune({"c1/app": ["2.0"], "c1/team/app": ["1"]}, "c1") == {
        "c1/app": {"2.0"},
        "c1/team/app": {"1"},
    }
    with pytest.raises(InputError, match=r"refusing to prune c10/app: it is outside c1/"):
        repositories_to_prune({"c1/app": ["2.0"], "c10/app": ["1.0"]}, "c1")
    with pytest.raises(InputError, match="give --target REGISTRY/PREFIX"):
        repositories_to_prune({"app": ["2.0"]}, "")


def _put(store: MemoryStore, tag: str, manifest: Manifest, blobs: dict[str, bytes] | None = None) -> Manifest:
    store.blobs.setdefault(REPO, {}).update(blobs or {})
    store.manifests[(REPO, tag)] = store.manifests[(REPO, manifest.digest)] = manifest
    return manifest


def _image_at(store: MemoryStore, tag: str) -> Manifest:
    manifest, blobs = _image(os.urandom(3_000), os.urandom(2_000))
    return _put(store, tag, manifest, blobs)


def _attached_tag(subject: Manifest, kind: str = ".sig") -> str:
    return subject.digest.replace(":", "-") + kind


def _signature(subject: str, payload: bytes = b"") -> Manifest:
    """A cosign-like signature manifest (an empty config, one layer): ``payload`` alone makes it unique."""
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:" + "4" * 64, "size": 2},
        "layers": [],
        "annotations": {"about": subject, "payload": payload.hex()},
    }
    return Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST)


def _referrer(subject: Manifest) -> Manifest:
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/example.sbom",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:" + "4" * 64, "size": 2},
        "layers": [],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.data)},
    }
    return Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST)


def _fallback_index(store: MemoryStore, subject: Manifest, referrers: list[Manifest]) -> Manifest:
    for referrer in referrers:
        store.manifests[(REPO, referrer.digest)] = referrer
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": r.media_type, "digest": r.digest, "size": len(r.data), "artifactType": r.body["artifactType"]}
            for r in referrers
        ],
    }
    index = Manifest.from_bytes(json.dumps(body).encode(), OCI_INDEX)
    return _put(store, subject.digest.replace(":", "-"), index)


def _removed(removals: list[Removal]) -> dict[str, str]:
    return {r.tag or r.digest: r.why for r in removals}


def test_what_is_attached_to_a_kept_digest_is_never_removed_even_where_a_superseded_tag_shares_it() -> None:
    """README Upgrading: prune never removes "a digest a kept tag points at (or one of its platform manifests,
    or what is attached to them)". The superseded image's signature tag names the same signature manifest as
    the kept image's: a DELETE by that digest would take the kept image's signature too."""
    store = MemoryStore()
    old, new = _image_at(store, "1.0"), _image_at(store, "2.0")
    shared_signature = _put(store, _attached_tag(new), _signature("both"))
    _put(store, _attached_tag(old), shared_signature)
    own_signature = _put(store, _attached_tag(old, ".att"), _signature("old"))
    plan = plan_prune(store, {REPO: {"2.0"}}, can_untag=False)
    assert shared_signature.digest not in {r.digest for r in plan.removals}, plan.removals
    assert _removed(plan.removals) == {"1.0": "superseded", _attached_tag(old, ".att"): "attached"}
    assert own_signature.digest in {r.digest for r in plan.removals}


def test_what_is_attached_goes_first_so_an_interrupted_prune_leaves_no_orphan_signature() -> None:
    """README Upgrading: "What is attached goes first, so an interrupted prune leaves no orphan signature.\""""
    store = MemoryStore()
    old = _image_at(store, "1.0")
    _image_at(store, "2.0")
    _put(store, _attached_tag(old), _signature("old"))
    _fallback_index(store, old, [_referrer(old)])
    plan = plan_prune(store, {REPO: {"2.0"}}, can_untag=False)
    whys = [r.why for r in plan.removals]
    assert whys[-1] == "superseded" and set(whys[:-1]) == {"attached", "referrer"} and len(whys) == 4, whys


def test_a_superseded_tag_sharing_a_kept_digest_is_untagged_where_the_registry_untags_else_kept() -> None:
    """README Upgrading, ECR: "a superseded tag that names the same digest as a kept one is untagged and the
    image stays"; elsewhere (a DELETE takes every tag of the digest) it stays and is reported."""
    store = MemoryStore()
    image = _image_at(store, "2.0")
    _put(store, "1.0", image)
    at_ecr = plan_prune(store, {REPO: {"2.0"}}, can_untag=True)
    assert at_ecr.removals == [Removal(REPO, "1.0", image.digest, 0, "untagged")] and at_ecr.kept == []
    elsewhere = plan_prune(store, {REPO: {"2.0"}}, can_untag=False)
    assert elsewhere.removals == [] and [(k.tag, k.shared_with) for k in elsewhere.kept] == [("1.0", "2.0")]


def test_the_referrers_a_fallback_index_lists_are_removed_with_it() -> None:
    """README Upgrading: prune removes "the referrers fallback index sha256-<hex> and the referrers it (or the
    referrers API) lists" (here a target without the referrers API: the index is the only listing)."""
    store = MemoryStore()
    old = _image_at(store, "1.0")
    _image_at(store, "2.0")
    sbom = _referrer(old)
    _fallback_index(store, old, [sbom])
    plan = plan_prune(store, {REPO: {"2.0"}}, can_untag=False)
    assert _removed(plan.removals) == {
        "1.0": "superseded",
        old.digest.replace(":", "-"): "attached",
        sbom.digest: "referrer",
    }
    referrer = next(r for r in plan.removals if r.why == "referrer")
    assert referrer.tag is None and referrer.subject == old.digest and referrer.size == len(sbom.data) + 2


def test_a_removals_size_is_its_manifest_and_the_blobs_it_names() -> None:
    """README Upgrading: "--dry-run lists each tag with its digest, its size (the manifest and the blobs it
    names)"."""
    store = MemoryStore()
    old = _image_at(store, "1.0")
    _image_at(store, "2.0")
    (superseded,) = plan_prune(store, {REPO: {"2.0"}}, can_untag=False).removals
    assert superseded.size == len(old.data) + sum(b.size for b in old.blobs)
    assert superseded.line() == f"{REPO}:1.0  {old.digest[:19]}  {superseded.size} B  superseded"


def _ecr_image(ecr: Any, repository: str, layer: bytes, tag: str | None) -> str:
    """An image as ECR's control plane knows it (moto tracks PutImage), tagged or not; returns its digest."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": _sha256(b"{}")},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": 1, "digest": _sha256(layer)}],
        }
    )
    put = ecr.put_image(repositoryName=repository, imageManifest=manifest, **({"imageTag": tag} if tag else {}))
    return str(put["image"]["imageId"]["imageDigest"])


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_ecr_removes_superseded_tags_by_tag_and_untagged_referrers_by_digest(sandbox: Sandbox) -> None:
    """README Upgrading: on ECR, prune is "the control plane's `BatchDeleteImage` ..., by tag; ... Untagged referrers
    go by digest" (moto stands in for that API)."""
    ecr = boto3.client(
        "ecr", region_name=REGION, endpoint_url=sandbox.aws.url, aws_access_key_id="t", aws_secret_access_key="t"
    )
    repository = f"prune-{os.getpid()}-{id(ecr)}/app"
    ecr.create_repository(repositoryName=repository)
    old = _ecr_image(ecr, repository, b"old", "1.0")
    referrer = _ecr_image(ecr, repository, b"sig", None)
    kept = _ecr_image(ecr, repository, b"new", "2.0")
    removals = [
        Removal(repository, None, referrer, 10, "referrer", subject=old),
        Removal(repository, "1.0", old, 10, "superseded"),
    ]
    EcrRemover(ecr, None).remove(repository, removals)
    left = {image["imageDigest"] for image in ecr.describe_images(repositoryName=repository)["imageDetails"]}
    assert left == {kept}, "the tag 1.0 and the untagged referrer are both gone, 2.0 stays"
