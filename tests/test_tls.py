"""TLS to registries: verified by default, a private CA through --ca-file, a clear error without it."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provider_helper.errors import RegistryError
from provider_helper.registry.client import RegistryClient
from provider_helper.sandbox.registry import LocalRegistry


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRegistry, Path]]:
    """A Distribution registry serving HTTPS with a certificate from a private CA."""
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("nvcf-mirror test CA")).issuer_name(_name("nvcf-mirror test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    registry = LocalRegistry(folder / "registry", tls=(folder / "cert.pem", folder / "key.pem")).start()
    yield registry, folder / "ca.pem"
    registry.stop()


def test_a_registry_signed_by_a_private_ca_is_refused_without_ca_file(tls_registry: tuple[LocalRegistry, Path]) -> None:
    registry, _ = tls_registry
    client = RegistryClient(registry.host, scheme="https")  # loopback would mean plain HTTP; this test is about TLS
    with pytest.raises(RegistryError, match=r"TLS to 127\.0\.0\.1:\d+ failed: .*\(use --ca-file for a private CA\)"):
        client.ping()


def test_ca_file_makes_the_private_ca_trusted(tls_registry: tuple[LocalRegistry, Path]) -> None:
    registry, ca = tls_registry
    assert RegistryClient(registry.host, scheme="https", ca_file=str(ca)).ping() is True
