"""From one release to the next, against the real local registries: what a dry run says an upgrade
costs (and that the copy then sends exactly that), what changes between two releases, and pruning
what the new release no longer lists."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from helpers import run_cli, write_manifest

from provider_helper.sandbox.images import OCI_LAYER, Factory
from provider_helper.sandbox.stack import Sandbox


def _summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The summary event of a run made with ``--log-format json``."""
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    return next(e for e in events if e.get("event") == "summary")


def _images(source: Factory, ns: str, names: list[str], tag: str = "1.0") -> None:
    """Images with a layer of their own and one that every image shares (one upload, mounts elsewhere)."""
    common = os.urandom(120_000)
    for name in names:
        repo = f"{ns}/nvidia/{name}"
        source.image(repo, tag, shared=(source.blob(repo, common, OCI_LAYER),), layer_sizes=(60_000,))


def test_a_dry_run_says_what_the_copy_then_sends_into_an_empty_and_a_half_filled_prefix(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    names = ["app-a", "app-b", "app-c", "app-d"]
    _images(source, ns, names)
    entries = [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1.0", "group": "test"} for n in names]
    full, half = write_manifest(tmp_path / "full.yaml", entries), write_manifest(tmp_path / "half.yaml", entries[:2])

    def mirror(manifest: Path, prefix: str, *extra: str) -> dict[str, Any]:
        result = tmp_path / f"{prefix.replace('/', '_')}-{len(extra)}.json"
        done = run_cli(
            "--log-format",
            "json",
            "mirror",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{sandbox.target.host}/{prefix}",
            "--no-signatures",
            "--result-file",
            str(result),
            *extra,
            env=sandbox.env(),
        )
        assert done.returncode == 0, done.stderr
        doc: dict[str, Any] = json.loads(result.read_text())
        assert _summary(done)["bytes_to_copy"] == doc["summary"]["bytes_to_copy"], "the summary event says it too"
        return doc

    empty = mirror(full, f"{ns}/empty", "--dry-run")
    assert empty["summary"]["planned"] == 4 and empty["summary"]["present"] == 0
    assert empty["summary"]["bytes_to_copy"] > 4 * 60_000 + 120_000
    copied = mirror(full, f"{ns}/empty")
    assert copied["summary"]["copied"] == 4
    assert copied["summary"]["bytes_copied"] == empty["summary"]["bytes_to_copy"], "the shared layer is counted once"
    per_artifact = {a["key"]: a["bytes_to_copy"] for a in empty["artifacts"]}
    assert sum(per_artifact.values()) == empty["summary"]["bytes_to_copy"]

    mirror(half, f"{ns}/half")  # half of the release is there already
    half_dry = mirror(full, f"{ns}/half", "--dry-run")
    assert (half_dry["summary"]["planned"], half_dry["summary"]["present"]) == (2, 2)
    rest = mirror(full, f"{ns}/half")
    assert rest["summary"]["copied"] == 2
    assert rest["summary"]["bytes_copied"] == half_dry["summary"]["bytes_to_copy"], (
        "the shared layer is mounted, not sent"
    )
    assert half_dry["summary"]["bytes_to_copy"] < empty["summary"]["bytes_to_copy"] - 120_000

    plan = run_cli(
        "plan",
        "--compare",
        "--manifest",
        str(full),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}/half",
        "--output",
        "json",
        env=sandbox.env(),
    )
    assert plan.returncode == 0, plan.stderr
    assert (
        json.loads(plan.stdout)["summary"]["present"] == 4 and json.loads(plan.stdout)["summary"]["bytes_to_copy"] == 0
    )
    table = run_cli(
        "plan",
        "--compare",
        "--manifest",
        str(full),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}/third",
        env=sandbox.env(),
    )
    header, *rows = table.stdout.strip().splitlines()
    assert table.returncode == 0 and header.endswith("; 0 present, would copy 4, " + header.rsplit(", ", 1)[1]), (
        table.stdout
    )
    assert len(rows) == 4 and all(", " in row.rsplit("  to copy", 1)[1] for row in rows), rows
    line = run_cli(
        "mirror",
        "--dry-run",
        "--manifest",
        str(full),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}/third",
        "--no-signatures",
        env=sandbox.env(),
    )
    assert line.returncode == 0 and "; would copy 4, " in line.stderr.strip().splitlines()[-1], line.stderr


def test_save_dry_run_says_the_bundle_size_and_with_since_the_differential_size(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    names = ["app-a", "app-b"]
    _images(source, ns, names)
    first = write_manifest(
        tmp_path / "first.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/{n}:1.0", "group": "test"} for n in names],
    )

    def save(manifest: Path, to: Path, *extra: str) -> dict[str, Any]:
        done = run_cli(
            "--log-format",
            "json",
            "save",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--to",
            str(to),
            "--no-signatures",
            *extra,
            env=sandbox.env(),
        )
        assert done.returncode == 0, done.stderr
        return _summary(done)

    dry = save(first, tmp_path / "v1", "--dry-run")
    assert not (tmp_path / "v1").exists(), "a dry run writes nothing"
    real = save(first, tmp_path / "v1")
    assert dry["planned"] == 2 and real["copied"] == 2 and real["bytes_copied"] == dry["bytes_to_copy"]

    _images(source, ns, ["app-c"])
    source.image(f"{ns}/nvidia/app-a", "2.0", layer_sizes=(70_000,))
    second = write_manifest(
        tmp_path / "second.yaml",
        [
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app-a:2.0", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app-b:1.0", "group": "test"},
            {"type": "image", "source": f"nvcr.io/{ns}/nvidia/app-c:1.0", "group": "test"},
        ],
    )
    since = ("--since", str(tmp_path / "v1"))
    dry_diff = save(second, tmp_path / "v2", "--dry-run", *since)
    assert (dry_diff["planned"], dry_diff["present"]) == (2, 1), "app-b is in the base bundle"
    real_diff = save(second, tmp_path / "v2", *since)
    assert real_diff["bytes_copied"] == dry_diff["bytes_to_copy"] < dry["bytes_to_copy"] + 200_000


def _entry(ns: str, name: str, version: str, kind: str = "image", group: str = "test") -> dict[str, Any]:
    return {"type": kind, "source": f"nvcr.io/{ns}/nvidia/{name}:{version}", "group": group}


def test_manifest_diff_of_two_manifests_lists_added_removed_and_changed_one_line_each(ns: str, tmp_path: Path) -> None:
    old = write_manifest(
        tmp_path / "old.yaml",
        [
            _entry(ns, "kept", "1.0"),
            _entry(ns, "bumped", "1.0"),
            _entry(ns, "dropped", "0.9"),
            _entry(ns, "helm-app", "1.4.7", "chart"),
        ],
    )
    new = write_manifest(
        tmp_path / "new.yaml",
        [
            _entry(ns, "kept", "1.0"),
            _entry(ns, "bumped", "1.1"),
            _entry(ns, "fresh", "2.0"),
            _entry(ns, "helm-app", "1.5.0", "chart"),
            _entry(ns, "dropped", "1.0", "chart"),
        ],
    )
    done = run_cli("manifest", "diff", str(old), str(new), "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [(a["type"], a["name"], a["version"]) for a in doc["added"]] == [
        ("image", "fresh", "2.0"),
        ("chart", "dropped", "1.0"),
    ]
    assert [(r["type"], r["name"], r["version"]) for r in doc["removed"]] == [("image", "dropped", "0.9")], (
        "another type is another artifact"
    )
    assert [(c["type"], c["name"], c["from"], c["to"]) for c in doc["changed"]] == [
        ("image", "bumped", "1.0", "1.1"),
        ("chart", "helm-app", "1.4.7", "1.5.0"),
    ]
    assert doc["changed"][0]["source_to"] == f"nvcr.io/{ns}/nvidia/bumped:1.1"
    table = run_cli("manifest", "diff", str(old), str(new))
    lines = table.stdout.strip().splitlines()
    assert table.returncode == 0 and len(lines) == 5 + 1, table.stdout
    assert [line.split()[:3] for line in lines[:5]] == [
        ["+", "image", "fresh"],
        ["+", "chart", "dropped"],
        ["-", "image", "dropped"],
        ["~", "image", "bumped"],
        ["~", "chart", "helm-app"],
    ]
    assert "1.0 -> 1.1" in lines[3] and lines[-1] == f"2 added, 1 removed, 2 changed: {old} -> {new}"
    same = run_cli("manifest", "diff", str(old), str(old), "--output", "json")
    assert json.loads(same.stdout) | {"old": "", "new": ""} == {
        "old": "",
        "new": "",
        "added": [],
        "removed": [],
        "changed": [],
    }


def test_manifest_diff_reads_a_bundled_release_and_a_bundles_lock_and_refuses_what_is_neither(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    _images(source, ns, ["app-a", "app-b"])
    saved = write_manifest(tmp_path / "saved.yaml", [_entry(ns, "app-a", "1.0"), _entry(ns, "app-b", "1.0")])
    bundle = tmp_path / "bundle"
    done = run_cli(
        "save",
        "--manifest",
        str(saved),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(bundle),
        env=sandbox.env(),
    )
    assert done.returncode == 0, done.stderr
    upgrade = write_manifest(tmp_path / "next.yaml", [_entry(ns, "app-a", "2.0"), _entry(ns, "app-c", "1.0")])
    for lock in (bundle, bundle / "nvcf-mirror.lock.json"):
        doc = json.loads(run_cli("manifest", "diff", str(lock), str(upgrade), "--output", "json").stdout)
        assert [a["name"] for a in doc["added"]] == ["app-c"] and [r["name"] for r in doc["removed"]] == ["app-b"]
        assert [(c["name"], c["from"], c["to"]) for c in doc["changed"]] == [("app-a", "1.0", "2.0")]

    bundled = json.loads(run_cli("manifest", "diff", "v0.5", str(upgrade), "--output", "json").stdout)
    assert {r["name"] for r in bundled["removed"]} >= {"nvcf-openbao", "gdn-streaming"}, (
        "the bundled release's default groups"
    )
    unknown = run_cli("manifest", "diff", "v9.9", str(upgrade))
    assert unknown.returncode == 2 and unknown.stderr.strip().startswith(
        "nvcf-mirror: error: v9.9: not a bundled NVCF release (bundled: v0.5"
    )
    missing = run_cli("manifest", "diff", str(tmp_path / "nope.yaml"), str(upgrade))
    assert (
        missing.returncode == 2
        and len(missing.stderr.strip().splitlines()) == 1
        and "no such manifest" in missing.stderr
    )


def _at_target(sandbox: Sandbox, repo: str, reference: str) -> str | None:
    """The digest ``repo:reference`` names at the target, read with plain HTTP (not the product's client)."""
    import httpx

    from provider_helper.oci.manifest import ACCEPT
    from provider_helper.sandbox.aws import ECR_USER

    answer = httpx.head(
        f"{sandbox.target.url}/v2/{repo}/manifests/{reference}",
        headers={"Accept": ACCEPT},
        auth=(ECR_USER, sandbox.target_password),
    )
    return answer.headers["docker-content-digest"] if answer.status_code == 200 else None


def _retag(source: Factory, repo: str, tag: str, new_tag: str) -> None:
    from provider_helper.oci.manifest import ACCEPT

    got = source.http.get(f"/v2/{repo}/manifests/{tag}", headers=source._headers(repo, Accept=ACCEPT))
    got.raise_for_status()
    put = source.http.put(
        f"/v2/{repo}/manifests/{new_tag}",
        content=got.content,
        headers=source._headers(repo, **{"Content-Type": got.headers["content-type"]}),
    )
    put.raise_for_status()


def test_prune_removes_what_release_b_no_longer_lists_and_nothing_else(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    from provider_helper.oci.manifest import ACCEPT

    old = source.image(f"{ns}/nvidia/app-a", "1.0")
    signature = source.cosign(f"{ns}/nvidia/app-a", old)
    referrer = source.referrer(f"{ns}/nvidia/app-a", old)
    new = source.image(f"{ns}/nvidia/app-a", "2.0")
    source.image(f"{ns}/nvidia/app-b", "1.0")
    source.image(f"{ns}/nvidia/app-gone", "1.0")
    shared = source.image(f"{ns}/nvidia/app-shared", "1.0")
    _retag(source, f"{ns}/nvidia/app-shared", "1.0", "2.0")  # release B names the same digest under a new tag
    release_a = write_manifest(
        tmp_path / "a.yaml",
        [
            _entry(ns, "app-a", "1.0"),
            _entry(ns, "app-b", "1.0"),
            _entry(ns, "app-gone", "1.0"),
            _entry(ns, "app-shared", "1.0"),
        ],
    )
    release_b = write_manifest(
        tmp_path / "b.yaml", [_entry(ns, "app-a", "2.0"), _entry(ns, "app-b", "1.0"), _entry(ns, "app-shared", "2.0")]
    )
    prefix, other = f"{ns}/rel", f"{ns}/other"

    def cli(command: str, manifest: Path, into: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_cli(
            command,
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            f"{sandbox.target.host}/{into}",
            *extra,
            env=sandbox.env(),
        )

    for manifest, into in ((release_a, prefix), (release_a, other), (release_b, prefix)):
        done = cli("mirror", manifest, into)
        assert done.returncode == 0, done.stderr
    sig_tag, fallback_tag = old.digest.replace(":", "-") + ".sig", old.digest.replace(":", "-")
    before = {
        (repo, ref): _at_target(sandbox, repo, ref)
        for repo, ref in [
            (f"{prefix}/app-a", "1.0"),
            (f"{prefix}/app-a", sig_tag),
            (f"{prefix}/app-a", fallback_tag),
            (f"{prefix}/app-a", referrer.digest),
        ]
    }
    assert before[(f"{prefix}/app-a", "1.0")] == old.digest and before[(f"{prefix}/app-a", sig_tag)] == signature.digest
    assert before[(f"{prefix}/app-a", referrer.digest)] == referrer.digest, (
        "the referrer came along under the fallback tag"
    )

    dry = cli("prune", release_b, prefix, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.strip().splitlines()
    listed = {line.split()[0] for line in lines}
    assert listed == {
        f"{prefix}/app-a:1.0",
        f"{prefix}/app-a:{sig_tag}",
        f"{prefix}/app-a:{fallback_tag}",
        f"{prefix}/app-a@{referrer.digest}",
        f"{prefix}/app-shared:1.0",
    }, lines
    superseded = next(line for line in lines if line.startswith(f"{prefix}/app-a:1.0 "))
    body = json.loads(
        source.http.get(
            f"/v2/{ns}/nvidia/app-a/manifests/1.0", headers=source._headers(f"{ns}/nvidia/app-a", Accept=ACCEPT)
        ).content
    )
    size = old.size + body["config"]["size"] + sum(layer["size"] for layer in body["layers"])
    assert superseded.split()[1:] == [old.digest[:19], str(size), "B", "superseded"], superseded
    assert "kept: the selection's 2.0 points at the same digest" in next(
        line for line in lines if "app-shared:1.0" in line
    )
    assert "would be removed (dry run)" in dry.stderr
    assert {key: _at_target(sandbox, *key) for key in before} == before, "a dry run deletes nothing"

    refused = cli("prune", release_b, prefix)
    assert (
        refused.returncode == 2
        and refused.stderr.strip().splitlines() == [refused.stderr.strip()]
        and "pass --yes" in refused.stderr
    )
    assert _at_target(sandbox, f"{prefix}/app-a", "1.0") == old.digest

    done = cli("prune", release_b, prefix, "--yes")
    assert done.returncode == 0, done.stderr
    assert {key: _at_target(sandbox, *key) for key in before} == dict.fromkeys(before), (
        "the tag, its signature, fallback index and referrer"
    )
    assert _at_target(sandbox, f"{prefix}/app-a", "2.0") == new.digest and _at_target(sandbox, f"{prefix}/app-b", "1.0")
    assert _at_target(sandbox, f"{prefix}/app-shared", "2.0") == shared.digest, "a digest a kept tag points at survives"
    assert _at_target(sandbox, f"{prefix}/app-gone", "1.0"), "a repository release B does not name is untouched"
    assert _at_target(sandbox, f"{other}/app-a", "1.0") == old.digest and _at_target(
        sandbox, f"{other}/app-a", sig_tag
    ), "outside the prefix"
    verified = cli("verify", release_b, prefix)
    assert verified.returncode == 0, verified.stderr
    again = cli("prune", release_b, prefix, "--dry-run")
    shared_only = [line for line in lines if "app-shared:1.0" in line]
    assert again.stdout.strip().splitlines() == shared_only


def test_prune_at_a_registry_that_refuses_deletes_is_one_line_naming_it(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    from provider_helper.sandbox.registry import LocalRegistry

    source.image(f"{ns}/nvidia/app-a", "1.0")
    source.image(f"{ns}/nvidia/app-a", "2.0")
    registry = LocalRegistry(tmp_path / "no-deletes", deletes=False).start()
    try:
        target = f"{registry.host}/{ns}"
        for version in ("1.0", "2.0"):
            manifest = write_manifest(tmp_path / f"{version}.yaml", [_entry(ns, "app-a", version)])
            done = run_cli(
                "mirror",
                "--manifest",
                str(manifest),
                "--source-registry",
                sandbox.source.host,
                "--target",
                target,
                env=sandbox.env(),
            )
            assert done.returncode == 0, done.stderr
        done = run_cli(
            "prune",
            "--manifest",
            str(manifest),
            "--source-registry",
            sandbox.source.host,
            "--target",
            target,
            "--yes",
            env=sandbox.env(),
        )
        assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert f"{registry.host} refuses to delete manifests" in done.stderr and "storage.delete.enabled" in done.stderr
    finally:
        registry.stop()


def test_prune_at_ecr_untags_and_deletes_through_batch_delete_image(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    """The tests' ECR stand-in keeps images in a separate registry (moto is the control plane only): the
    images the data plane holds are put into moto too, and moto shows what BatchDeleteImage removed."""
    import boto3
    import httpx

    from provider_helper.oci.manifest import ACCEPT
    from provider_helper.sandbox.aws import ECR_USER, REGION

    old = source.image(f"{ns}/nvidia/app-a", "1.0")
    source.cosign(f"{ns}/nvidia/app-a", old)
    source.image(f"{ns}/nvidia/app-a", "2.0")
    shared = source.image(f"{ns}/nvidia/app-shared", "1.0")
    _retag(source, f"{ns}/nvidia/app-shared", "1.0", "2.0")
    release_a = write_manifest(tmp_path / "a.yaml", [_entry(ns, "app-a", "1.0"), _entry(ns, "app-shared", "1.0")])
    release_b = write_manifest(tmp_path / "b.yaml", [_entry(ns, "app-a", "2.0"), _entry(ns, "app-shared", "2.0")])
    args = ["--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}", "--target-type", "ecr"]
    for manifest in (release_a, release_b):
        done = run_cli("mirror", "--manifest", str(manifest), *args, "--create-repos", env=sandbox.ecr_env())
        assert done.returncode == 0, done.stderr
    ecr = boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sig_tag = old.digest.replace(":", "-") + ".sig"
    for repo, tags in ((f"{ns}/app-a", ["1.0", "2.0", sig_tag]), (f"{ns}/app-shared", ["1.0", "2.0"])):
        for tag in tags:
            got = httpx.get(
                f"{sandbox.target.url}/v2/{repo}/manifests/{tag}",
                headers={"Accept": ACCEPT},
                auth=(ECR_USER, sandbox.target_password),
            )
            ecr.put_image(
                repositoryName=repo,
                imageManifest=got.text,
                imageTag=tag,
                imageManifestMediaType=got.headers["content-type"],
            )

    def listed(repo: str) -> set[tuple[str | None, str]]:
        return {(i.get("imageTag"), i["imageDigest"]) for i in ecr.list_images(repositoryName=repo)["imageIds"]}

    # moto digests the manifest it re-encodes: its own digests, one image, two tags
    shared_before = listed(f"{ns}/app-shared")
    assert len({digest for _, digest in shared_before}) == 1 and len(shared_before) == 2
    dry = run_cli("prune", "--manifest", str(release_b), *args, "--dry-run", env=sandbox.ecr_env())
    assert dry.returncode == 0, dry.stderr
    assert {line.split()[0]: line.split()[-1] for line in dry.stdout.strip().splitlines()} == {
        f"{ns}/app-a:1.0": "superseded",
        f"{ns}/app-a:{sig_tag}": f"{old.digest[:19]})",
        f"{ns}/app-shared:1.0": "untagged",
    }, dry.stdout
    done = run_cli("prune", "--manifest", str(release_b), *args, "--yes", env=sandbox.ecr_env())
    assert done.returncode == 0, done.stderr
    assert {tag for tag, _ in listed(f"{ns}/app-a")} == {"2.0"}, "the superseded tag and its signature are gone"
    assert listed(f"{ns}/app-shared") == {t for t in shared_before if t[0] == "2.0"}, (
        "untagged: the image stays for the kept tag"
    )
    assert _at_target(sandbox, f"{ns}/app-shared", "2.0") == shared.digest


def test_prune_keeps_a_platform_manifest_and_its_signature_that_a_kept_index_shares(
    sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path
) -> None:
    from provider_helper.oci.manifest import OCI_INDEX

    repo = f"{ns}/nvidia/app"
    old_index, children = source.index(repo, "1.0", attestations=False)
    amd64, old_arm = children["linux/amd64"], children["linux/arm64"]
    new_arm = source.image(repo, None, platform="linux/arm64")
    platform = {
        "linux/amd64": {"architecture": "amd64", "os": "linux"},
        "linux/arm64": {"architecture": "arm64", "os": "linux"},
    }
    new_index = source.manifest(
        repo,
        "2.0",
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                amd64.descriptor(platform=platform["linux/amd64"]),
                new_arm.descriptor(platform=platform["linux/arm64"]),
            ],
        },
        OCI_INDEX,
    )
    kept_sig, gone_sig = source.cosign(repo, amd64), source.cosign(repo, old_arm)
    releases = {v: write_manifest(tmp_path / f"{v}.yaml", [_entry(ns, "app", v)]) for v in ("1.0", "2.0")}
    common = ["--source-registry", sandbox.source.host, "--target", f"{sandbox.target.host}/{ns}", "--all-platforms"]
    for version in ("1.0", "2.0"):
        done = run_cli("mirror", "--manifest", str(releases[version]), *common, env=sandbox.env())
        assert done.returncode == 0, done.stderr
    assert _at_target(sandbox, f"{ns}/app", old_arm.digest.replace(":", "-") + ".sig") == gone_sig.digest

    done = run_cli("prune", "--manifest", str(releases["2.0"]), *common, "--yes", env=sandbox.env())
    assert done.returncode == 0, done.stderr
    assert (
        _at_target(sandbox, f"{ns}/app", "1.0") is None and _at_target(sandbox, f"{ns}/app", old_index.digest) is None
    )
    assert _at_target(sandbox, f"{ns}/app", old_arm.digest.replace(":", "-") + ".sig") is None, (
        "the superseded platform's signature"
    )
    assert _at_target(sandbox, f"{ns}/app", amd64.digest.replace(":", "-") + ".sig") == kept_sig.digest, (
        "the shared platform's stays"
    )
    assert (
        _at_target(sandbox, f"{ns}/app", "2.0") == new_index.digest
        and _at_target(sandbox, f"{ns}/app", amd64.digest) == amd64.digest
    )
    verified = run_cli("verify", "--manifest", str(releases["2.0"]), *common, "--signatures", env=sandbox.env())
    assert verified.returncode == 0, verified.stderr
