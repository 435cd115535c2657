"""Units of provider_helper/mirror/chartjson.py and the manifest helm.py builds from it (no real part:
tests/test_helm.py compares with the real helm push)."""

from __future__ import annotations

import datetime
import json

import pytest

from provider_helper.content.built import BuiltArtifact
from provider_helper.mirror.chartjson import (
    FIXED_CREATED,
    chart_config,
    created_annotation,
    go_clean,
    go_json,
    with_requirements,
)
from provider_helper.mirror.helm import HELM_PROV, chart_payload


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2025-05-01T10:00:00.123456789+02:00", "2025-05-01T08:00:00Z"),
        ("2025-05-01T10:00:00Z", "2025-05-01T10:00:00Z"),
        (datetime.datetime(2025, 5, 1, 10, 0, 0, 999999, tzinfo=datetime.UTC), "2025-05-01T10:00:00Z"),
        (None, FIXED_CREATED),
        ("", FIXED_CREATED),
        ("yesterday", FIXED_CREATED),
    ],
)
def test_created_is_the_index_time_in_whole_seconds_utc_else_the_fixed_time(created: object, expected: str) -> None:
    assert created_annotation(created) == expected


def test_go_json_escapes_html_characters_and_keeps_other_text_raw() -> None:
    assert go_json({"k": "a<b>&c ü 日\u2028"}) == '{"k":"a\\u003cb\\u003e\\u0026c ü 日\\u2028"}'.encode()


def test_helm_cleans_whitespace_and_drops_unprintable_characters() -> None:
    assert go_clean("two\nlines\tand\x00 a\u00a0space") == "two lines and a space"


def test_the_config_follows_helms_struct_order_and_leaves_empty_fields_out() -> None:
    config = json.loads(
        chart_config(
            {
                "version": "1.0.0",
                "name": "x",
                "deprecated": False,
                "keywords": [],
                "maintainers": [{"url": "u", "name": "n"}],
                "dependencies": [{"version": "1", "name": "d"}],
                "annotations": {"b": "2", "a": "1"},
            }
        )
    )
    assert list(config) == ["name", "version", "maintainers", "apiVersion", "annotations", "dependencies"]
    assert config["dependencies"] == [{"name": "d", "version": "1", "repository": ""}], "repository is never left out"
    assert list(config["maintainers"][0]) == ["name", "url"] and list(config["annotations"]) == ["a", "b"]
    assert config["apiVersion"] == "v1", "Helm reads a chart without apiVersion as v1"


def test_a_signed_charts_layers_are_ordered_by_digest_and_the_manifest_has_no_media_type() -> None:
    metadata = {"apiVersion": "v2", "name": "x", "version": "1.0.0"}
    for archive, prov in ((b"chart-a", b"prov-a"), (b"chart-b", b"prov-b"), (b"chart-c", b"prov-c")):
        built = chart_payload(metadata, archive, prov, FIXED_CREATED).source
        assert isinstance(built, BuiltArtifact)
        body = json.loads(built.manifest.data)
        digests = [layer["digest"] for layer in body["layers"]]
        assert digests == sorted(digests) and HELM_PROV in {layer["mediaType"] for layer in body["layers"]}
        assert "mediaType" not in body and list(body["annotations"]) == sorted(body["annotations"])


def test_requirements_yaml_dependencies_and_a_numeric_app_version_are_read_as_helm_reads_them() -> None:
    metadata = with_requirements(
        {"apiVersion": "v1", "name": "old", "version": "0.1.0", "appVersion": 1.10},
        {"dependencies": [{"name": "sub", "version": "1.0.0", "repository": "https://x"}]},
    )
    config = json.loads(chart_config(metadata))
    assert config["dependencies"] == [{"name": "sub", "version": "1.0.0", "repository": "https://x"}]
    assert config["appVersion"] == "1.1"


@pytest.mark.parametrize("given", [None, "", "   ", "not a time", 42])
def test_a_chart_whose_index_gives_no_usable_created_is_written_at_the_unix_epoch(given: object) -> None:
    """README Helm: "nvcf-mirror writes the chart's created from the repository index, in whole seconds UTC
    (2025-05-01T08:00:00Z), and 1970-01-01T00:00:00Z when the index gives none"."""
    assert created_annotation(given) == "1970-01-01T00:00:00Z"
    assert created_annotation("2025-05-01T08:00:00.123456789Z") == "2025-05-01T08:00:00Z"
