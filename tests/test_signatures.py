"""Signatures, attestations, SBOMs and OCI 1.1 referrers travel with the images (mirror, save, load,
verify), read back at the target with skopeo, an independent client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultproxy import Fault, FaultProxy
from helpers import run_cli, sha256, skopeo_raw, write_manifest

from provider_helper.sandbox.images import Factory, Pushed
from provider_helper.sandbox.stack import Sandbox


@pytest.fixture
def signed_set(sandbox: Sandbox, source: Factory, ns: str, tmp_path: Path) -> dict[str, Any]:
    """Four artifacts: an image with a signature, an attestation, an SBOM and a referrer; an index
    signed only as a whole; an index whose amd64 image is signed itself; an unsigned image."""
    signed = source.image(f"{ns}/nvidia/signed", "1.0")
    whole, _ = source.index(f"{ns}/nvidia/whole", "1.0")
    per_platform, children = source.index(f"{ns}/nvidia/per-platform", "1.0")
    attached: dict[str, dict[str, Pushed]] = {
        "signed": {s: source.cosign(f"{ns}/nvidia/signed", signed, s) for s in (".sig", ".att", ".sbom")},
        "whole": {".sig": source.cosign(f"{ns}/nvidia/whole", whole)},
        "per-platform": {".sig": source.cosign(f"{ns}/nvidia/per-platform", per_platform)},
    }
    referrer = source.referrer(f"{ns}/nvidia/signed", signed)
    amd64_sig = source.cosign(f"{ns}/nvidia/per-platform", children["linux/amd64"])
    source.image(f"{ns}/nvidia/plain", "1.0")
    names = ("signed", "whole", "per-platform", "plain")
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "group": "test", "source": f"nvcr.io/{ns}/nvidia/{n}:1.0"} for n in names],
    )
    return {
        "manifest": manifest,
        "signed": signed,
        "whole": whole,
        "per_platform": per_platform,
        "amd64": children["linux/amd64"],
        "attached": attached,
        "referrer": referrer,
        "amd64_sig": amd64_sig,
    }


def _mirror(sandbox: Sandbox, manifest: Path, target: str, *extra: str, source: str | None = None) -> dict[str, Any]:
    result = manifest.parent / "result.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        source or sandbox.source.host,
        "--target",
        target,
        "--result-file",
        str(result),
        *extra,
        env=sandbox.env(),
    )
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(result.read_text())
    return doc


def _at_target(sandbox: Sandbox, reference: str) -> str:
    """The digest of the manifest bytes skopeo reads at the target."""
    return sha256(skopeo_raw(f"{sandbox.target.host}/{reference}", authfile=sandbox.docker_config / "config.json"))


def _tag(pushed: Pushed, suffix: str = "") -> str:
    return pushed.digest.replace(":", "-") + suffix


def _by_key(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["target"].rsplit("/", 1)[1].split(":")[0]: a for a in doc["artifacts"]}


def test_signatures_attestations_sboms_and_referrers_arrive_byte_identical(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str
) -> None:
    doc = _mirror(sandbox, signed_set["manifest"], f"{sandbox.target.host}/{ns}")
    s = signed_set
    for suffix, pushed in s["attached"]["signed"].items():
        assert _at_target(sandbox, f"{ns}/signed:{_tag(s['signed'], suffix)}") == pushed.digest, suffix
    assert _at_target(sandbox, f"{ns}/signed@{s['referrer'].digest}") == s["referrer"].digest
    fallback = json.loads(
        skopeo_raw(
            f"{sandbox.target.host}/{ns}/signed:{_tag(s['signed'])}", authfile=sandbox.docker_config / "config.json"
        )
    )
    assert [m["digest"] for m in fallback["manifests"]] == [s["referrer"].digest]
    assert _at_target(sandbox, f"{ns}/per-platform:{_tag(s['amd64'], '.sig')}") == s["amd64_sig"].digest
    with pytest.raises(LookupError):  # the index's own signature does not sign what the tag points at: left behind
        skopeo_raw(
            f"{sandbox.target.host}/{ns}/per-platform:{_tag(s['per_platform'], '.sig')}",
            authfile=sandbox.docker_config / "config.json",
        )
    counts = {name: a["signatures_copied"] for name, a in _by_key(doc).items()}
    assert counts == {"signed": 4, "whole": 0, "per-platform": 1, "plain": 0}
    assert doc["summary"]["signatures_copied"] == 5


def test_the_subset_note_appears_exactly_when_the_signature_covers_only_the_index(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str
) -> None:
    doc = _by_key(_mirror(sandbox, signed_set["manifest"], f"{sandbox.target.host}/{ns}"))
    assert "--all-platforms" in doc["whole"]["note"] and signed_set["whole"].digest in doc["whole"]["note"]
    assert "note" not in doc["per-platform"], "the amd64 image carries its own signature"
    assert "note" not in doc["signed"] and "note" not in doc["plain"]

    planned = run_cli(
        "plan",
        "--manifest",
        str(signed_set["manifest"]),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        env=sandbox.env(),
    )
    assert planned.returncode == 0, planned.stderr
    assert planned.stderr.count("--all-platforms") == 1 and "whole" in planned.stderr

    everything = _by_key(_mirror(sandbox, signed_set["manifest"], f"{sandbox.target.host}/{ns}-all", "--all-platforms"))
    assert "note" not in everything["whole"] and everything["whole"]["signatures_copied"] == 1
    assert (
        _at_target(sandbox, f"{ns}-all/whole:{_tag(signed_set['whole'], '.sig')}")
        == signed_set["attached"]["whole"][".sig"].digest
    )


def test_no_signatures_leaves_them_behind(sandbox: Sandbox, signed_set: dict[str, Any], ns: str) -> None:
    doc = _mirror(sandbox, signed_set["manifest"], f"{sandbox.target.host}/{ns}", "--no-signatures")
    assert doc["summary"]["signatures_copied"] == 0
    with pytest.raises(LookupError):
        skopeo_raw(
            f"{sandbox.target.host}/{ns}/signed:{_tag(signed_set['signed'], '.sig')}",
            authfile=sandbox.docker_config / "config.json",
        )


@pytest.fixture
def source_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    proxy = FaultProxy(sandbox.source.url)
    yield proxy
    proxy.close()


def test_a_warm_run_asks_the_source_one_request_more_per_artifact_its_tag_list(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source_proxy: FaultProxy
) -> None:
    target = f"{sandbox.target.host}/{ns}"
    _mirror(sandbox, signed_set["manifest"], target, source=source_proxy.host)
    source_proxy.clear()
    warm = _mirror(sandbox, signed_set["manifest"], target, source=source_proxy.host)
    assert warm["summary"]["present"] == 4 and warm["summary"]["signatures_copied"] == 0
    with_signatures = [p for _, p, _ in source_proxy.log]
    source_proxy.clear()
    _mirror(sandbox, signed_set["manifest"], target, "--no-signatures", source=source_proxy.host)
    without = [p for _, p, _ in source_proxy.log]
    extra = list(with_signatures)
    for path in without:
        extra.remove(path)
    # Counted at the source proxy: each artifact's repository's tag list, and nothing else (no
    # cosign tag, fallback index or referrers listing is read: the target has them by name).
    assert sorted(extra) == sorted(
        f"/v2/{ns}/nvidia/{n}/tags/list?n=1000" for n in ("signed", "whole", "per-platform", "plain")
    )

    source_proxy.clear()
    rechecked = _mirror(sandbox, signed_set["manifest"], target, "--recheck-signatures", source=source_proxy.host)
    assert rechecked["summary"]["signatures_copied"] == 0
    read = [p.rsplit("/", 1)[1] for p in (p for _, p, _ in source_proxy.log) if "/manifests/sha256-" in p]
    # --recheck-signatures reads each cosign tag of a copied digest and the fallback index, to compare digests
    assert sorted(read) == sorted(
        [_tag(signed_set["signed"], s) for s in (".sig", ".att", ".sbom", "")] + [_tag(signed_set["amd64"], ".sig")]
    )


def _save(sandbox: Sandbox, manifest: Path, layout: Path) -> None:
    saved = run_cli(
        "save",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--to",
        str(layout),
        env=sandbox.env(),
    )
    assert saved.returncode == 0, saved.stderr


def _load(sandbox: Sandbox, layout: Path, target: str, result: Path) -> None:
    loaded = run_cli(
        "load",
        "--from",
        str(layout),
        "--target",
        target,
        "--result-file",
        str(result),
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert loaded.returncode == 0, loaded.stderr


def test_save_and_load_carry_them_and_the_lock_lists_them(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    _save(sandbox, signed_set["manifest"], layout)
    lock = {
        a["name"].rsplit("/", 1)[-1]: a for a in json.loads((layout / "nvcf-mirror.lock.json").read_text())["artifacts"]
    }
    s = signed_set
    listed = {(x["kind"], x["digest"]) for x in lock["signed"]["attached"]}
    assert listed == {
        ("signature", s["attached"]["signed"][".sig"].digest),
        ("attestation", s["attached"]["signed"][".att"].digest),
        ("sbom", s["attached"]["signed"][".sbom"].digest),
        ("referrer", s["referrer"].digest),
    }
    assert lock["plain"]["attached"] == []

    _load(sandbox, layout, f"{sandbox.target.host}/{ns}-airgap", tmp_path / "r.json")
    for suffix, pushed in s["attached"]["signed"].items():
        assert _at_target(sandbox, f"{ns}-airgap/signed:{_tag(s['signed'], suffix)}") == pushed.digest, suffix
    assert _at_target(sandbox, f"{ns}-airgap/signed@{s['referrer'].digest}") == s["referrer"].digest
    assert _at_target(sandbox, f"{ns}-airgap/per-platform:{_tag(s['amd64'], '.sig')}") == s["amd64_sig"].digest
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["signatures_copied"] == 5

    checked = run_cli(
        "verify",
        "--signatures",
        "--from",
        str(layout),
        "--target",
        f"{sandbox.target.host}/{ns}-airgap",
        env={"DOCKER_CONFIG": str(sandbox.docker_config)},
    )
    assert checked.returncode == 0, checked.stderr


def test_a_re_signed_image_travels_through_save_and_load_again(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source: Factory, tmp_path: Path
) -> None:
    layout, target = tmp_path / "layout", f"{sandbox.target.host}/{ns}-airgap"
    _save(sandbox, signed_set["manifest"], layout)
    _load(sandbox, layout, target, tmp_path / "r.json")
    resigned = source.cosign(f"{ns}/nvidia/signed", signed_set["signed"])  # signed again: same tag, new content
    _save(sandbox, signed_set["manifest"], layout)  # the image is in the layout already: only the .sig changed
    _load(sandbox, layout, target, tmp_path / "r.json")
    assert _by_key(json.loads((tmp_path / "r.json").read_text()))["signed"]["signatures_copied"] == 1
    assert _at_target(sandbox, f"{ns}-airgap/signed:{_tag(signed_set['signed'], '.sig')}") == resigned.digest


def test_verify_signatures_reports_what_the_target_lacks(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source: Factory
) -> None:
    target = f"{sandbox.target.host}/{ns}"
    _mirror(sandbox, signed_set["manifest"], target, "--no-signatures")
    common = ("--manifest", str(signed_set["manifest"]), "--source-registry", sandbox.source.host, "--target", target)
    assert run_cli("verify", *common, env=sandbox.env()).returncode == 0, (
        "without --signatures only the images are checked"
    )
    lacking = run_cli("verify", "--signatures", *common, env=sandbox.env())
    assert lacking.returncode == 1
    assert f"signature {_tag(signed_set['signed'], '.sig')} at the target: missing" in lacking.stderr
    assert f"referrer {signed_set['referrer'].digest}" in lacking.stderr
    assert "mismatch" not in "".join(line for line in lacking.stderr.splitlines() if "/plain:" in line)

    _mirror(sandbox, signed_set["manifest"], target)
    assert run_cli("verify", "--signatures", *common, env=sandbox.env()).returncode == 0
    resigned = source.cosign(f"{ns}/nvidia/signed", signed_set["signed"])  # signed again: same tag, new content
    stale = run_cli("verify", "--signatures", *common, env=sandbox.env())
    assert stale.returncode == 1 and f"not the source's {resigned.digest}" in stale.stderr
    warm = _mirror(sandbox, signed_set["manifest"], target)
    assert _by_key(warm)["signed"]["signatures_copied"] == 0, "a warm run checks signatures by name"
    again = _mirror(sandbox, signed_set["manifest"], target, "--recheck-signatures")
    assert _by_key(again)["signed"]["signatures_copied"] == 1, "--recheck-signatures replaces the re-signed .sig"
    assert _at_target(sandbox, f"{ns}/signed:{_tag(signed_set['signed'], '.sig')}") == resigned.digest
    assert run_cli("verify", "--signatures", *common, env=sandbox.env()).returncode == 0


def test_a_source_that_refuses_its_tag_list_still_gets_the_image_copied_with_a_note(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source_proxy: FaultProxy
) -> None:
    # a pull-only role that may not list tags
    source_proxy.add(Fault("GET", r"/tags/list", "status", times=-1, status=403))
    doc = _by_key(_mirror(sandbox, signed_set["manifest"], f"{sandbox.target.host}/{ns}", source=source_proxy.host))
    assert doc["signed"]["status"] == "copied" and doc["signed"]["signatures_copied"] == 0
    assert doc["signed"]["note"].startswith("signatures not looked up: list tags of") and "403" in doc["signed"]["note"]


def test_signatures_follow_the_image_so_a_failed_image_leaves_none_behind(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source_proxy: FaultProxy
) -> None:
    image_layers = [d["digest"] for d in json.loads(_source_manifest(sandbox, f"{ns}/nvidia/signed", "1.0"))["layers"]]
    source_proxy.add(Fault("GET", "/blobs/(" + "|".join(image_layers) + ")$", "status", times=-1, status=500))
    result = signed_set["manifest"].parent / "result.json"
    done = run_cli(
        "mirror",
        "--manifest",
        str(signed_set["manifest"]),
        "--source-registry",
        source_proxy.host,
        "--target",
        f"{sandbox.target.host}/{ns}",
        "--retries",
        "1",
        "--result-file",
        str(result),
        env=sandbox.env(),
    )
    assert done.returncode == 1
    assert _by_key(json.loads(result.read_text()))["signed"]["status"] == "failed"
    for suffix in (".sig", ".att", ".sbom", ""):
        with pytest.raises(LookupError):
            skopeo_raw(
                f"{sandbox.target.host}/{ns}/signed:{_tag(signed_set['signed'], suffix)}",
                authfile=sandbox.docker_config / "config.json",
            )


def _source_manifest(sandbox: Sandbox, repo: str, tag: str) -> bytes:
    factory = sandbox.source_factory()
    try:
        return factory.http.get(
            f"/v2/{repo}/manifests/{tag}",
            headers={"Authorization": factory.authorize(repo), "Accept": "application/vnd.oci.image.manifest.v1+json"},
        ).content
    finally:
        factory.close()


def test_a_warm_run_refused_the_fallback_index_it_lacks_notes_it_and_still_carries_the_cosign_tags(
    sandbox: Sandbox, signed_set: dict[str, Any], ns: str, source_proxy: FaultProxy
) -> None:
    target = f"{sandbox.target.host}/{ns}"
    _mirror(sandbox, signed_set["manifest"], target, "--no-signatures", source=source_proxy.host)
    source_proxy.add(Fault("GET", f"/manifests/{_tag(signed_set['signed'])}$", "status", times=-1, status=403))
    signed = _by_key(_mirror(sandbox, signed_set["manifest"], target, source=source_proxy.host))["signed"]
    assert signed["status"] == "present" and signed["signatures_copied"] == 3, "the .sig, .att and .sbom, read by name"
    assert signed["note"].startswith("referrers not looked up:") and "403" in signed["note"]
    assert (
        _at_target(sandbox, f"{ns}/signed:{_tag(signed_set['signed'], '.sig')}")
        == signed_set["attached"]["signed"][".sig"].digest
    )
