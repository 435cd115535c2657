"""provider_helper/oci/limits.py: the byte bounds on OCI content read whole, held to the README's limits table.
A manifest of exactly the bound is read; one byte more is refused while it streams.

A mocked transport serves the manifests: a real registry (Distribution) refuses to store one past 4 MiB, so the
answer one byte past the bound is a fault only a scripted answer can produce."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers import sha256
from readme_text import limit, size

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import TooLargeError
from provider_helper.oci.limits import MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES
from provider_helper.oci.manifest import OCI_MANIFEST
from provider_helper.retry import RetryPolicy


def _manifest_of(length: int) -> bytes:
    """An OCI image manifest padded with an annotation to exactly ``length`` bytes."""
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": [], "annotations": {"pad": ""}}
    bare = len(json.dumps(body, separators=(",", ":")).encode())
    body["annotations"] = {"pad": "x" * (length - bare)}
    data = json.dumps(body, separators=(",", ":")).encode()
    assert len(data) == length
    return data


def test_the_manifest_bound_is_the_4_mib_of_the_limits_table() -> None:
    stated = limit("a manifest or index")
    assert stated.endswith("(as Distribution)")
    assert MAX_MANIFEST_BYTES == size(stated.removesuffix("(as Distribution)")) == 4 * 1024 * 1024


def test_a_config_read_to_learn_a_platform_is_bounded_above_a_manifest() -> None:
    assert MAX_CONFIG_BYTES >= MAX_MANIFEST_BYTES


@pytest.mark.parametrize("extra", [0, 1], ids=["at-the-bound", "one-byte-past"])
def test_a_manifest_at_the_bound_is_read_and_one_byte_more_is_refused(extra: int) -> None:
    data = _manifest_of(size(limit("a manifest or index").removesuffix("(as Distribution)")) + extra)
    digest = sha256(data)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=data, headers={"Content-Type": OCI_MANIFEST})

    client = RegistryClient(
        "127.0.0.1:1", transport=httpx.MockTransport(answer), retry=RetryPolicy(attempts=1, base_delay=0)
    )
    try:
        if extra:
            with pytest.raises(TooLargeError):
                client.get_manifest("org/app", digest)
        else:
            assert client.get_manifest("org/app", digest).digest == digest
    finally:
        client.close()
