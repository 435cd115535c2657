"""Unit tests of provider_helper/results.py: the result document."""

from __future__ import annotations

import json

from provider_helper import redact
from provider_helper.redact import remember
from provider_helper.results import ArtifactResult, document, human_bytes, plan_lines


def test_the_result_document_keeps_every_documented_field_error_null_included() -> None:
    from provider_helper.results import ArtifactResult, document

    copied = ArtifactResult(
        key="image:app:1",
        type="image",
        group="g",
        source="nvcr.io/o/app:1",
        target="h/p/app:1",
        digest="sha256:" + "a" * 64,
        platforms=["linux/amd64"],
        status="copied",
        bytes_copied=5,
    )
    failed = ArtifactResult(
        key="image:b:1",
        type="image",
        group="g",
        source="nvcr.io/o/b:1",
        target="h/p/b:1",
        status="failed",
        error="boom",
    )
    doc = json.loads(json.dumps(document("h/p", [copied, failed], 1.25)))
    assert doc["version"] == 1 and doc["target"] == "h/p"
    documented = {
        "key",
        "type",
        "group",
        "source",
        "target",
        "digest",
        "platforms",
        "status",
        "bytes_copied",
        "error",
        "signatures_copied",
        "bytes_to_copy",
    }
    assert set(doc["artifacts"][0]) == documented and doc["artifacts"][0]["error"] is None
    assert doc["artifacts"][1]["digest"] is None and doc["artifacts"][1]["error"] == "boom"
    assert doc["summary"] == {
        "copied": 1,
        "present": 0,
        "failed": 1,
        "planned": 0,
        "bytes_copied": 5,
        "seconds": 1.25,
        "signatures_copied": 0,
        "bytes_to_copy": 0,
    }


def _result(resolved_from: str | None = None) -> ArtifactResult:
    return ArtifactResult(
        "image:nats:2.10.22",
        "image",
        "main",
        "docker.io/library/nats:2.10.22",
        "r.internal/p/nats:2.10.22",
        resolved_from=resolved_from,
    )


def test_resolved_from_is_written_latest_where_latest_chose_the_version_and_left_out_elsewhere() -> None:
    """README Versions: the resolved version is "what the result document records (with
    "resolved_from": "latest")"; CONTRACTS: "Extensions, present only where they apply: ... resolved_from
    ("latest" when --set-version NAME=latest chose the version)"."""
    resolved, pinned = document("r.internal/p", [_result(resolved_from="latest"), _result()], 1.0)["artifacts"]
    assert resolved["resolved_from"] == "latest"
    assert "resolved_from" not in pinned and "note" not in pinned, pinned


def test_sizes_are_in_binary_units_so_1000_bytes_stay_bytes_and_1023_kib_stay_kib() -> None:
    """README Output: "Sizes and rates are in KiB, MiB and GiB (per second)": units of 1024, not 1000."""
    from provider_helper.results import human_bytes

    assert human_bytes(1000) == "1000 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1024) == "1.0 KiB"
    assert human_bytes(1000 * 1024) == "1000.0 KiB"
    assert human_bytes(1000 * 1024 * 1024) == "1000.0 MiB"


def test_plan_lines_show_a_source_whose_last_part_is_the_same_name_tag_up_to_its_last_slash() -> None:
    """README Use: "`plan` prints one line per artifact: type, group, where it lands under the target, platforms, a
    short digest and the source it is read from (after `--source-registry` and `--source-map`; a source whose last
    part is the same `name:tag` is shown up to its last `/`)". Each line whole: a mapped source and a bundled one
    ending in the target's name:tag are cut after their last `/`, a source of another name is shown whole."""
    from provider_helper.results import plan_lines

    results = [
        ArtifactResult(
            "image:app:1.0", "image", "main", "nvcr.io/org/app:1.0", "reg.example/p/app:1.0", "sha256:" + "a" * 64
        ),
        ArtifactResult("image:db:2", "image", "extra", "nvcr.io/org/db:2", "reg.example/p/db:2", "sha256:" + "b" * 64),
        ArtifactResult(
            "chart:stack:2.0", "chart", "main", "nvcr.io/org/charts/other:2.0", "reg.example/p/stack:2.0", None
        ),
    ]
    results[0].platforms = ["linux/amd64"]
    sources = {"image:app:1.0": "mirror.internal:5000/org/app:1.0"}
    assert plan_lines(results, sources, "reg.example/p") == [
        "image main  app:1.0   linux/amd64 sha256:aaaaaaaaaaaa from mirror.internal:5000/org/",
        "image extra db:2      all         sha256:bbbbbbbbbbbb from nvcr.io/org/",
        "chart main  stack:2.0 all         -                   from nvcr.io/org/charts/other:2.0",
    ]


def test_errors_notes_sources_and_targets_are_redacted_in_the_document() -> None:
    """README Security: secrets "are replaced by <redacted> in error lines, logs, plan output and result documents"."""
    remember("s3cr3t-token-value")
    try:
        result = ArtifactResult(
            "image:a:1",
            "image",
            "g",
            "https://user:pw@src.example/a:1",
            "registry.example/p/a:1",
            status="failed",
            error="denied with s3cr3t-token-value at https://s3.example/blob?X-Amz-Signature=abc",
            note="note s3cr3t-token-value",
        )
        artifact = document("registry.example/p", [result], 0.0)["artifacts"][0]
    finally:
        redact._secrets.discard("s3cr3t-token-value")
    assert artifact["error"] == "denied with <redacted> at https://s3.example/blob?<redacted>"
    assert artifact["note"] == "note <redacted>"
    assert artifact["source"] == "https://<redacted>@src.example/a:1"


def test_gib_is_the_largest_unit() -> None:
    """README Output: "Sizes and rates are in KiB, MiB and GiB": a TiB is 1024.0 GiB, never a larger unit."""
    assert human_bytes(1 << 40) == "1024.0 GiB"
    assert human_bytes(3 << 40) == "3072.0 GiB"
    assert human_bytes((1 << 30) - 1) == "1.0 GiB"
    assert human_bytes(1 << 30) == "1.0 GiB"
    assert human_bytes(1023) == "1023 B" and human_bytes(1024) == "1.0 KiB"


def test_a_plan_line_names_where_it_lands_under_the_target_and_a_short_digest() -> None:
    """README plan: "one line per artifact: type, group, where it lands under the target, platforms, a short digest
    and the source it is read from (... a source whose last part is the same name:tag is shown up to its last /)"."""
    digest = "sha256:" + "ab" * 32
    results = [
        ArtifactResult(
            "image:a:1",
            "image",
            "core",
            "nvcr.io/org/a:1",
            "reg.example/p/a:1",
            digest=digest,
            platforms=["linux/amd64"],
        ),
        ArtifactResult("chart:long-chart:2", "chart", "x", "https://h.example/c", "reg.example/p/long-chart:2"),
    ]
    sources = {"image:a:1": "mirror.example/org/a:1"}
    assert plan_lines(results, sources, "reg.example/p") == [
        f"image core a:1          linux/amd64 {digest[:19]} from mirror.example/org/",
        "chart x    long-chart:2 all         -                   from https://h.example/c",
    ]


def test_a_plan_line_ends_with_what_went_wrong() -> None:
    """results.plan_lines: each line ends with "what went wrong, if anything": the status and the error, redacted."""
    failed = ArtifactResult(
        "image:a:1",
        "image",
        "g",
        "nvcr.io/o/a:1",
        "reg.example/p/a:1",
        status="failed",
        error="denied at https://u:p@h/x",
    )
    [line] = plan_lines([failed], {}, "reg.example/p")
    assert line.endswith(" from nvcr.io/o/  failed: denied at https://<redacted>@h/x"), line
