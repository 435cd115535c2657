"""The copy engine in process, through the content API it writes to (engine.Store).

One test runs the same jobs through a real registry, an OCI layout and an in-memory store: mirror,
save and load share this code path. The in-memory store (below) makes the engine's own rules fast to
test: the blob ledger and mounts, refused mounts, manifest-PUT recovery, cancellation, warm runs."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import readme_text
from helpers import sha256

from provider_helper.artifacts import Artifact
from provider_helper.content.built import BuiltArtifact
from provider_helper.content.layout import Layout
from provider_helper.content.registry import RegistryClient
from provider_helper.content.store import Store
from provider_helper.errors import BlobUnknownError, NotFoundError, TransientError, UnsupportedError
from provider_helper.mirror.attached import MAX_LISTED, merged_index
from provider_helper.mirror.engine import CopyEngine, EngineOptions
from provider_helper.mirror.plan import Job
from provider_helper.mirror.resolve import Selection, resolve
from provider_helper.mirror.sources import Payload
from provider_helper.oci.manifest import OCI_INDEX, OCI_MANIFEST, Descriptor, Manifest
from provider_helper.oci.reference import Platform, Reference, parse_platform
from provider_helper.progress import LogReporter
from provider_helper.registry.credentials import Credential, StaticCredential
from provider_helper.retry import RetryPolicy
from provider_helper.sandbox.aws import ECR_USER
from provider_helper.sandbox.stack import Sandbox


@dataclass
class MemoryStore:
    """The content API in memory: blobs per repository, manifests by repository and reference."""

    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=2, base_delay=0.0))
    mounts_allowed: bool = True
    refuse_manifest_once: str | None = None  # an error code for the first manifest PUT (a blob link being rewritten)
    referrers_api: bool = False  # lists referrers by subject (OCI 1.1), as Distribution 2.8 does not
    refuse_referrers_by_digest: bool = False  # answers 405 to a referrer pushed by digest, as ECR has
    blobs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    manifests: dict[tuple[str, str], Manifest] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def head_manifest(self, repo: str, reference: str) -> str | None:
        found = self.manifests.get((repo, reference))
        return found.digest if found else None

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        found = self.manifests.get((repo, reference))
        if found is None:
            raise NotFoundError(f"{repo}:{reference} is not in the store")
        return found

    @contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[Iterator[bytes]]:
        yield iter((self.blobs[repo][digest],))

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        return self.blobs[repo][digest]

    def put_manifest(self, repo: str, reference: str, manifest: Manifest) -> None:
        with self.lock:
            self.calls.append("put_manifest")
            if self.refuse_manifest_once:
                code, self.refuse_manifest_once = self.refuse_manifest_once, None
                self.blobs.get(repo, {}).clear()  # as if its blob links were being rewritten underneath
                raise BlobUnknownError(f"put manifest: {code}")
            if self.refuse_referrers_by_digest and reference.startswith("sha256:") and "subject" in manifest.body:
                raise UnsupportedError("put manifest: 405 Method Not Allowed")
            missing = [b.digest for b in manifest.blobs if b.digest not in self.blobs.get(repo, {})]
            assert not missing, f"a manifest was pushed before its blobs: {missing}"
            self.manifests[(repo, reference)] = self.manifests[(repo, manifest.digest)] = manifest

    def tags(self, repo: str) -> list[str]:
        return [ref for r, ref in self.manifests if r == repo and not ref.startswith("sha256:")]

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        if not self.referrers_api:
            return None
        return [
            Descriptor(m.media_type, m.digest, len(m.data), artifact_type=m.body.get("artifactType"))
            for (r, ref), m in self.manifests.items()
            if r == repo and ref == m.digest and (m.body.get("subject") or {}).get("digest") == digest
        ]

    def has_blob(self, repo: str, digest: str) -> bool:
        return digest in self.blobs.get(repo, {})

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        with self.lock:
            self.calls.append("mount_blob")
            if not self.mounts_allowed or digest not in self.blobs.get(from_repo, {}):
                return False
            self.blobs.setdefault(repo, {})[digest] = self.blobs[from_repo][digest]
            return True

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        data = b"".join(chunks)
        with self.lock:
            self.calls.append("put_blob")
            assert sha256(data) == blob.digest
            self.blobs.setdefault(repo, {})[blob.digest] = data


_CHECKED: type[Store] = MemoryStore  # mypy (on the tests) checks the in-memory store against the protocol


def _image(base: bytes, own: bytes) -> tuple[Manifest, dict[str, bytes]]:
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": [sha256(base), sha256(own)]}}
    ).encode()
    blobs = {sha256(b): b for b in (config, base, own)}
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(b), "size": len(b)}
            for b in (base, own)
        ],
    }
    return Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST), blobs


def _jobs(prefix: str, names: tuple[str, ...] = ("app", "other")) -> tuple[list[Job], dict[str, Payload]]:
    base = os.urandom(50_000)
    jobs, payloads = [], {}
    for name in names:
        manifest, blobs = _image(base, os.urandom(20_000))
        ref = Reference("target.example", f"{prefix}/{name}" if prefix else name, tag="1.0")
        artifact = Artifact(
            type="image", group="g", name=name, where="test", image=Reference("nvcr.io", f"org/{name}", tag="1.0")
        )
        jobs.append(Job(artifact, ref, None, None))
        payloads[artifact.key] = Payload.ready(Selection(manifest, [], ["linux/amd64"]), BuiltArtifact(manifest, blobs))
    return jobs, payloads


def _run(target: Store, todo: list[Job], payloads: dict[str, Payload], **options: Any) -> list[Any]:
    return CopyEngine(lambda job: payloads[job.key], target, EngineOptions(**options), LogReporter()).run(todo)


@pytest.fixture(params=[pytest.param("registry", marks=pytest.mark.real_parts), "layout", "memory"])
def destination(request: pytest.FixtureRequest, tmp_path: Path, ns: str) -> tuple[Store, str]:
    """The same engine code path into each implementation of the content API."""
    if request.param == "registry":
        sandbox: Sandbox = request.getfixturevalue("sandbox")
        credential = StaticCredential(Credential(ECR_USER, sandbox.target_password))
        client = RegistryClient(sandbox.target.host, credentials=credential)
        request.addfinalizer(client.close)
        return client, ns
    if request.param == "layout":
        return Layout.for_writing(tmp_path / "layout"), ""
    return MemoryStore(), ns


def test_the_engine_copies_through_any_content_api_and_a_second_run_finds_everything(
    destination: tuple[Store, str],
) -> None:
    target, prefix = destination
    jobs, payloads = _jobs(prefix)
    first = _run(target, jobs, payloads)
    assert [r.status for r in first] == ["copied", "copied"], [r.error for r in first]
    for job, result in zip(jobs, first, strict=True):
        assert target.head_manifest(job.target.repository, "1.0") == result.digest == payloads[job.key].resolved.digest
        assert (
            target.get_manifest(job.target.repository, "1.0").data == payloads[job.key].resolved.materialize().top.data
        )
    again = _run(target, jobs, payloads)
    assert [r.status for r in again] == ["present", "present"] and sum(r.bytes_copied for r in again) == 0


def test_a_shared_layer_is_put_once_and_mounted_into_the_other_repository() -> None:
    store = MemoryStore()
    jobs, payloads = _jobs("p")
    results = _run(store, jobs, payloads, jobs=1)
    assert [r.status for r in results] == ["copied", "copied"]
    assert store.calls.count("put_blob") == 5, "two configs, two own layers, the shared base once"
    assert store.calls.count("mount_blob") == 1


@dataclass
class SlowBaseStore(MemoryStore):
    """The shared base layer's upload lasts until every other blob of the run is in."""

    base: str = ""
    others: int = 0
    others_in: threading.Event = field(default_factory=threading.Event)
    waited_out: bool = False

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        if blob.digest == self.base:
            self.waited_out = not self.others_in.wait(10)
        super().put_blob(repo, blob, chunks)
        with self.lock:
            if blob.digest != self.base and self.calls.count("put_blob") == self.others:
                self.others_in.set()


def test_a_shared_layer_being_uploaded_holds_no_worker_waiting_for_it() -> None:
    """Two blob workers: one uploads the base both images share; the other must go on with the
    remaining blobs instead of waiting for that base, which it will then mount."""
    jobs, payloads = _jobs("p")
    first = payloads[jobs[0].key].resolved.materialize().top
    store = SlowBaseStore(base=first.blobs[1].digest, others=4)  # two configs, two own layers
    results = _run(store, jobs, payloads, jobs=2, blob_jobs=2)
    assert [r.status for r in results] == ["copied", "copied"], [r.error for r in results]
    assert not store.waited_out, "the other blobs were queued behind a worker waiting for the shared base"
    assert store.calls.count("put_blob") == 5 and store.calls.count("mount_blob") == 1


def test_a_refused_mount_falls_back_to_putting_the_blob() -> None:
    store = MemoryStore(mounts_allowed=False)
    jobs, payloads = _jobs("p")
    assert [r.status for r in _run(store, jobs, payloads, jobs=1)] == ["copied", "copied"]
    assert store.calls.count("put_blob") == 6 and store.calls.count("mount_blob") == 1


def test_a_manifest_put_refused_for_a_blob_rechecks_the_blobs_and_succeeds() -> None:
    store = MemoryStore(refuse_manifest_once="MANIFEST_BLOB_UNKNOWN")
    jobs, payloads = _jobs("p", ("app",))
    [result] = _run(store, jobs, payloads)
    assert result.status == "copied", result.error
    assert store.calls.count("put_manifest") == 2 and store.calls.count("put_blob") == 6, (
        "every blob sent again, then the manifest"
    )


def test_a_cancelled_run_puts_nothing() -> None:
    store = MemoryStore()
    jobs, payloads = _jobs("p")
    engine = CopyEngine(lambda job: payloads[job.key], store, EngineOptions(), LogReporter())
    engine.cancel.set()
    results = engine.run(jobs)
    assert [(r.status, r.error) for r in results] == [("failed", "interrupted")] * 2
    assert store.calls == []


# -- referrers: the target's side of OCI 1.1, which no registry in this sandbox has ----------------


def _referred(source: MemoryStore, repo: str) -> tuple[Job, Payload, Manifest]:
    """An image in ``source`` with one SBOM referrer (found through ``source``'s referrers API or fallback tag)."""
    image, blobs = _image(os.urandom(1000), os.urandom(1000))
    sbom = b'{"spdxVersion":"SPDX-2.3"}'
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": sha256(sbom), "size": len(sbom)}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.data)},
    }
    referrer = Manifest.from_bytes(json.dumps(body).encode(), OCI_MANIFEST)
    blobs |= {sha256(b"{}"): b"{}", sha256(sbom): sbom}
    source.blobs[repo] = dict(blobs)
    for manifest in (image, referrer):
        source.put_manifest(repo, manifest.digest, manifest)
    source.manifests[(repo, "1.0")] = image
    artifact = Artifact(type="image", group="g", name="app", where="test", image=Reference("nvcr.io", repo, tag="1.0"))
    job = Job(artifact, Reference("target.example", f"mirror/{repo}", tag="1.0"), None, None)
    return job, Payload.ready(Selection(image, [], []), source, repo, attached=True), referrer


def test_a_target_with_the_referrers_api_gets_referrers_by_digest_and_no_fallback_tag() -> None:
    source, target = MemoryStore(referrers_api=True), MemoryStore(referrers_api=True)
    job, payload, referrer = _referred(source, "org/app")
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "copied" and result.signatures_copied == 1
    assert target.get_manifest("mirror/org/app", referrer.digest).data == referrer.data
    assert target.list_referrers("mirror/org/app", _digest(payload)) == source.list_referrers(
        "org/app", _digest(payload)
    )
    assert target.tags("mirror/org/app") == ["1.0"]


def test_a_target_without_it_gets_a_fallback_index_built_from_the_sources_listing() -> None:
    source, target = MemoryStore(referrers_api=True), MemoryStore()
    job, payload, referrer = _referred(source, "org/app")
    [result] = _run(target, [job], {job.key: payload})
    assert result.signatures_copied == 1
    fallback = target.get_manifest("mirror/org/app", _digest(payload).replace(":", "-"))
    assert [(d.digest, d.artifact_type) for d in fallback.children] == [(referrer.digest, "application/spdx+json")]
    assert _run(target, [job], {job.key: payload})[0].signatures_copied == 0, "a warm run finds it listed"


def test_a_referrer_refused_by_digest_is_kept_under_a_tag_and_listed_in_the_fallback_index() -> None:
    source, target = MemoryStore(referrers_api=True), MemoryStore(referrers_api=True, refuse_referrers_by_digest=True)
    job, payload, referrer = _referred(source, "org/app")
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "copied", result.error
    stem = _digest(payload).replace(":", "-")
    tagged = f"{stem}.{referrer.digest[7:23]}.ref"
    assert target.get_manifest("mirror/org/app", tagged).data == referrer.data
    assert [d.digest for d in target.get_manifest("mirror/org/app", stem).children] == [referrer.digest]


@dataclass
class FallbackTagSource(MemoryStore):
    """A source without the referrers API that keeps them under the fallback tag, and records what it is asked."""

    asked: list[str] = field(default_factory=list)

    def tags(self, repo: str) -> list[str]:
        self.asked.append("tags")
        return super().tags(repo)

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        self.asked.append(f"get {reference}")
        return super().get_manifest(repo, reference)

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        self.asked.append("referrers")
        return None


@pytest.mark.parametrize(
    "target",
    [MemoryStore(), MemoryStore(referrers_api=True), MemoryStore(referrers_api=True, refuse_referrers_by_digest=True)],
    ids=["fallback-tag", "referrers-api", "refused-by-digest"],
)
def test_a_warm_run_learns_from_the_source_tag_list_alone_that_the_target_has_the_referrers(
    target: MemoryStore,
) -> None:
    source = FallbackTagSource()
    job, payload, referrer = _referred(source, "org/app")
    stem = _digest(payload).replace(":", "-")
    source.manifests[("org/app", stem)] = merged_index(
        None, [Descriptor(OCI_MANIFEST, referrer.digest, len(referrer.data))]
    )
    assert _run(target, [job], {job.key: payload})[0].signatures_copied == 1
    source.asked.clear()
    [warm] = _run(target, [job], {job.key: payload})
    assert (warm.status, warm.signatures_copied) == ("present", 0), warm.error
    assert source.asked == ["tags"], "neither the fallback index nor the referrers API is asked"
    [rechecked] = _run(target, [job], {job.key: payload}, recheck_signatures=True)
    assert rechecked.signatures_copied == 0 and f"get {stem}" in source.asked


class MisreportingSource(MemoryStore):
    """A source whose referrers listing gets each referrer's size wrong."""

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        listed = MemoryStore(referrers_api=True, manifests=self.manifests).list_referrers(repo, digest) or []
        return [Descriptor(d.media_type, d.digest, d.size + 1, artifact_type=d.artifact_type) for d in listed]


def test_a_referrer_whose_listed_size_is_not_its_size_fails_the_artifact_and_is_not_pushed() -> None:
    source, target = MisreportingSource(), MemoryStore()
    job, payload, referrer = _referred(source, "org/app")
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "failed" and f"listed as {len(referrer.data) + 1} bytes" in (result.error or ""), (
        result.error
    )
    assert ("mirror/org/app", referrer.digest) not in target.manifests
    assert ("mirror/org/app", _digest(payload).replace(":", "-")) not in target.manifests, "no fallback index lists it"


class CrowdedSource(MemoryStore):
    """A source whose referrers listing names far more manifests than any image carries."""

    def list_referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        return [Descriptor(OCI_MANIFEST, sha256(str(i).encode()), 100) for i in range(MAX_LISTED + 1)]


def test_a_source_listing_more_referrers_than_the_cap_fails_the_artifact_and_pushes_none() -> None:
    source, target = CrowdedSource(), MemoryStore()
    job, payload, _ = _referred(source, "org/app")
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "failed" and f"referrers listing names {MAX_LISTED + 1} manifests" in (
        result.error or ""
    ), result.error
    assert sorted(ref for _, ref in target.manifests) == sorted(["1.0", _digest(payload)]), (
        "only the image: nothing the listing names"
    )


def test_a_signature_that_is_an_index_of_too_many_manifests_fails_the_artifact_and_pushes_none_of_them() -> None:
    source, target = MemoryStore(), MemoryStore()
    job, payload, _ = _referred(source, "org/app")
    crowded = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(str(i).encode()), "size": 100} for i in range(MAX_LISTED + 1)
        ],
    }
    source.manifests[("org/app", _digest(payload).replace(":", "-") + ".sig")] = Manifest.from_bytes(
        json.dumps(crowded).encode(), OCI_INDEX
    )
    [result] = _run(target, [job], {job.key: payload})
    assert result.status == "failed" and f"index names {MAX_LISTED + 1} manifests" in (result.error or ""), result.error
    assert sorted(ref for _, ref in target.manifests) == sorted(["1.0", _digest(payload)]), "only the image"


# -- adaptive concurrency: a storm of 429s is a fault no registry in this sandbox produces ----------------


@dataclass
class BusyStore(MemoryStore):
    """Uploads take a moment (so they overlap); the first ``refuse`` of them are answered 429."""

    refuse: int = 0
    running: int = 0
    peaks: list[int] = field(default_factory=list)  # uploads in flight as each one started
    delay: float = 0.15  # how long each upload takes

    def put_blob(self, repo: str, blob: Descriptor, chunks: Iterable[bytes]) -> None:
        with self.lock:
            self.running += 1
            self.peaks.append(self.running)
            refused, self.refuse = self.refuse > 0, max(0, self.refuse - 1)
        try:
            time.sleep(self.delay)
            if refused:
                raise TransientError("put blob: 429 toomanyrequests", status=429)
            super().put_blob(repo, blob, chunks)
        finally:
            with self.lock:
                self.running -= 1


def _many_blobs(count: int) -> tuple[list[Job], dict[str, Payload]]:
    return _jobs("p", tuple(f"app{i}" for i in range(count)))


def test_transfers_start_wide_and_halve_when_the_registry_answers_429() -> None:
    calm = BusyStore(retry=RetryPolicy(attempts=4, base_delay=0.0))
    todo, payloads = _many_blobs(8)
    assert all(r.status == "copied" for r in _run(calm, todo, payloads, jobs=8, blob_jobs=8))
    assert max(calm.peaks) >= 6, f"with nothing refused, transfers run side by side up to --blob-jobs: {calm.peaks}"

    storm = BusyStore(retry=RetryPolicy(attempts=4, base_delay=0.0), refuse=8)
    todo, payloads = _many_blobs(8)
    engine = CopyEngine(lambda job: payloads[job.key], storm, EngineOptions(jobs=8, blob_jobs=8), LogReporter())
    assert all(r.status == "copied" for r in engine.run(todo))
    # Each 429 halves the limit (8, 4, 2, 1) and nothing new starts until the transfers in flight end:
    # the first upload after the eight refused ones runs alone; clean ones then add room back.
    assert storm.peaks[8] == 1, f"uploads in flight as each one started: {storm.peaks}"
    assert 1 < engine.blobs.concurrency.limit < 8, (
        f"grew back one per four clean transfers: {engine.blobs.concurrency.limit}"
    )


def test_blob_transfers_never_exceed_blob_jobs_however_long_the_run_goes_well() -> None:
    """Clean transfers grow the limit back after a 429, never past --blob-jobs: 60 clean uploads at 3."""
    store = BusyStore(retry=RetryPolicy(attempts=2, base_delay=0.0), delay=0.03)
    todo, payloads = _many_blobs(30)
    assert all(r.status == "copied" for r in _run(store, todo, payloads, jobs=8, blob_jobs=3))
    assert len(store.peaks) >= 60 and max(store.peaks) == 3, f"uploads in flight as each one started: {store.peaks}"


def _digest(payload: Payload) -> str:
    """The resolved digest of a payload the test built itself (always known)."""
    digest = payload.resolved.digest
    assert digest is not None
    return digest


def test_a_dry_run_counts_each_missing_blob_once_not_what_it_could_mount_and_the_manifests() -> None:
    """README result document: bytes_to_copy is "the bytes the copy would send: the blobs the target lacks
    that it could not mount from another of its repositories (each blob counted once, as the copy uploads
    it once), and the manifests"."""
    jobs, payloads = _jobs("p")
    manifests = [payloads[j.key].resolved.materialize().top for j in jobs]
    base, own = manifests[0].blobs[1], [m.blobs[0].size + m.blobs[2].size for m in manifests]
    manifest_bytes = sum(len(m.data) for m in manifests)
    empty = MemoryStore()
    estimate = _run(empty, jobs, payloads, mode="dry-run", signatures=False)
    assert sum(r.bytes_to_copy for r in estimate) == base.size + sum(own) + manifest_bytes, "the shared base once"
    assert empty.calls == [], "a dry run puts nothing"
    copied = _run(empty, jobs, payloads, jobs=1, signatures=False)
    assert sum(r.bytes_copied for r in copied) == sum(r.bytes_to_copy for r in estimate), "the copy sends that"

    lender = MemoryStore()
    lender.blobs["q/app"] = {base.digest: b"held"}  # another repository of the target holds the base layer
    mountable = _run(lender, jobs, payloads, mode="dry-run", signatures=False, mount_from=("q",))
    assert sum(r.bytes_to_copy for r in mountable) == sum(own) + manifest_bytes, "the base is mounted, not sent"


@dataclass
class ConfigCountingStore(MemoryStore):
    """A source that counts the blobs read whole (a single image's config is read so)."""

    reads: list[str] = field(default_factory=list)

    def read_blob(self, repo: str, digest: str, max_bytes: int) -> bytes:
        self.reads.append(digest)
        return super().read_blob(repo, digest, max_bytes)


def test_a_dry_run_with_all_platforms_reads_no_config_and_a_wrong_arch_is_refused_by_dry_run_and_copy() -> None:
    """Review of the first-hour merge: with --all-platforms there is nothing to refuse, so a dry run reads no
    config (plan alone shows the platform); with a platform asked for, the dry run and the copy refuse another."""
    source = ConfigCountingStore()
    manifest, blobs = _image(b"base", b"own")
    source.blobs["org/app"] = blobs
    source.manifests[("org/app", "1.0")] = manifest
    artifact = Artifact(
        type="image", group="g", name="app", where="test", image=Reference("nvcr.io", "org/app", tag="1.0")
    )
    job = Job(artifact, Reference("target.example", "p/app", tag="1.0"), None, None)

    def payload(platforms: tuple[Platform, ...] | None) -> Payload:
        return Payload(
            lambda: resolve(source, Reference("nvcr.io", "org/app", tag="1.0"), platforms), source, "org/app"
        )

    [dry] = _run(MemoryStore(), [job], {job.key: payload(None)}, mode="dry-run", signatures=False)
    assert dry.status == "planned" and dry.bytes_to_copy > 0, dry
    assert source.reads == [], "a dry run with --all-platforms reads no config"
    arm = (parse_platform("linux/arm64"),)
    for mode in ("dry-run", "copy"):
        target = MemoryStore()
        [refused] = _run(target, [job], {job.key: payload(arm)}, mode=mode, signatures=False)
        assert refused.status == "failed" and "exec format error" in (refused.error or ""), (mode, refused)
        assert target.calls == [], f"{mode}: nothing put"


def test_the_engines_defaults_are_the_readmes_jobs_check_jobs_and_blob_jobs_and_signatures_travel() -> None:
    """README Performance: "they start at `--blob-jobs` (16) at once ... `--jobs` (8) and `--check-jobs` (32) bound
    artifacts copied and compared at once"; README Signatures: "by default, `mirror` ... copy what is attached"."""
    found = readme_text.said(r"`--jobs` \((\d+)\) and `--check-jobs` \((\d+)\) bound artifacts copied and compared")
    blob_jobs = readme_text.said(r"they start at `--blob-jobs` \((\d+)\) at once")
    options = EngineOptions()
    assert (options.jobs, options.check_jobs, options.blob_jobs) == (int(found[1]), int(found[2]), int(blob_jobs[1]))
    assert options.mode == "copy" and options.signatures and not options.recheck_signatures
    assert options.mount_from == ()
