"""Unit tests of provider_helper/mirror/helm.py's bounds on what a Helm repository serves."""

from __future__ import annotations

import readme_text

from provider_helper.mirror import helm


def test_a_helm_index_and_a_chart_archive_are_each_bounded_to_the_64_mib_the_readme_states() -> None:
    """README Limits: "a Helm `index.yaml` / chart archive | 64 MiB each"."""
    limit = readme_text.size(readme_text.limit("a Helm `index.yaml` / chart archive").removesuffix(" each"))
    assert limit == helm.MAX_INDEX_BYTES
    assert limit == helm.MAX_CHART_BYTES
