"""TLS to registries: verified by default, a private CA through --ca-file, a clear error without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testca import make_ca

from provider_helper.errors import RegistryError
from provider_helper.registry.client import RegistryClient
from provider_helper.sandbox.registry import LocalRegistry


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRegistry, Path]]:
    """A Distribution registry serving HTTPS with a certificate from a private CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca = make_ca(folder)
    registry = LocalRegistry(folder / "registry", tls=(ca.cert, ca.key)).start()
    yield registry, ca.ca
    registry.stop()


def test_a_registry_signed_by_a_private_ca_is_refused_without_ca_file(tls_registry: tuple[LocalRegistry, Path]) -> None:
    registry, _ = tls_registry
    client = RegistryClient(registry.host, scheme="https")  # loopback would mean plain HTTP; this test is about TLS
    with pytest.raises(RegistryError, match=r"TLS to 127\.0\.0\.1:\d+ failed: .*\(use --ca-file for a private CA\)"):
        client.ping()


def test_ca_file_makes_the_private_ca_trusted(tls_registry: tuple[LocalRegistry, Path]) -> None:
    registry, ca = tls_registry
    assert RegistryClient(registry.host, scheme="https", ca_file=str(ca)).ping() is True
