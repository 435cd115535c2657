"""provider_helper/mirror/sources.py: where a job's content comes from. ``dispatch`` sends an NGC resource to the
NGC API, a classic chart to its Helm repository and everything else (images, OCI charts) to its registry; a
``Payload`` resolves its source on first use only, once; content in hand (``Payload.ready``) carries the
digests whose signatures travel with it (the top manifest and its children)."""

from __future__ import annotations

import os

from test_engine import MemoryStore, _image

from provider_helper.artifacts import Artifact, ResourceRef
from provider_helper.content.built import BuiltArtifact
from provider_helper.mirror.plan import Job, PlanOptions, make_plan
from provider_helper.mirror.resolve import Resolved, Selection
from provider_helper.mirror.sources import Payload, dispatch
from provider_helper.oci.reference import Target, parse_reference

TARGET = Target("registry.example", "mycluster")


def _jobs() -> dict[str, Job]:
    image = Artifact(type="image", group="g", name="app", where="m:1", image=parse_reference("nvcr.io/org/app:1.0"))
    oci_chart = Artifact(type="chart", group="g", name="op", where="m:2", image=parse_reference("nvcr.io/org/op:1.4.7"))
    classic = Artifact(
        type="chart", group="g", name="gpu-operator", where="m:3", repo="https://h.example", chart="gpu-operator",
        version="25.3.1",
    )  # fmt: skip
    resource = Artifact(
        type="resource", group="g", name="base", where="m:4", resource=ResourceRef("org", "team", "base", "0.1.4")
    )
    jobs = make_plan([image, oci_chart, classic, resource], PlanOptions(TARGET, None))
    return {job.artifact.where: job for job in jobs}


def _marker(kind: str, asked: list[str]) -> object:
    def payload(job: Job) -> Payload:
        asked.append(f"{kind}:{job.artifact.name}")
        return Payload(lambda: Resolved(None, [], None, lambda: Selection(None, [], [])), MemoryStore(), kind)  # type: ignore[arg-type]

    return payload


def test_each_kind_of_job_is_read_from_its_own_kind_of_source() -> None:
    asked: list[str] = []
    payload_for = dispatch(_marker("registry", asked), _marker("classic", asked), _marker("resource", asked))  # type: ignore[arg-type]
    jobs = _jobs()
    assert [payload_for(jobs[where]).repo for where in ("m:1", "m:2", "m:3", "m:4")] == [
        "registry",
        "registry",
        "classic",
        "resource",
    ]
    assert asked == ["registry:app", "registry:op", "classic:gpu-operator", "resource:base"]


def test_a_payload_asks_its_source_on_first_use_and_only_once() -> None:
    calls: list[int] = []
    manifest, blobs = _image(os.urandom(100), os.urandom(100))

    def resolve() -> Resolved:
        calls.append(1)
        return Resolved(manifest.digest, ["linux/amd64"], None, lambda: Selection(manifest, [], ["linux/amd64"]))

    payload = Payload(resolve, BuiltArtifact(manifest, blobs), "org/app")
    assert calls == [], "made before anything was asked"
    assert payload.resolved.digest == manifest.digest
    assert payload.resolved.digest == manifest.digest
    assert calls == [1]
    assert payload.attached, "what the source attached travels along by default"


def test_content_in_hand_is_resolved_to_its_top_manifest_and_signs_it_and_its_children() -> None:
    top, blobs = _image(os.urandom(100), os.urandom(100))
    child, _ = _image(os.urandom(100), os.urandom(100))
    payload = Payload.ready(Selection(top, [child], ["linux/amd64"], "a note"), BuiltArtifact(top, blobs))
    assert payload.resolved.digest == top.digest
    assert payload.resolved.platforms == ["linux/amd64"] and payload.resolved.note == "a note"
    assert payload.resolved.signed == (top.digest, child.digest)
    assert payload.resolved.materialize().top is top
    assert not payload.attached, "content the tool built has nothing attached at a source"
    layer = top.blobs[-1]
    with payload.open_blob(layer) as chunks:
        assert b"".join(chunks) == blobs[layer.digest]
