"""TLS to registries: verified by default, a private CA through --ca-file, a clear error without it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from testca import make_ca

from provider_helper.content.registry import RegistryClient
from provider_helper.errors import RegistryError
from provider_helper.registry.tls import verifying_context
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


def test_the_module_names_its_ca_file_variable_and_hands_the_file_to_every_client(
    tls_registry: tuple[LocalRegistry, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Terraform adapter words the advice in the module's variable (``ca_file``), and its ``ca_file``
    reaches the registry clients of the run."""
    from provider_helper import wording
    from provider_helper.terraform_settings import config_from

    registry, ca = tls_registry
    monkeypatch.setattr(wording, "_door", wording.TERRAFORM)
    with pytest.raises(RegistryError, match=r"\(use ca_file for a private CA\)"):
        RegistryClient(registry.host, scheme="https").ping()
    pool = config_from({"target_registry": registry.host, "target_type": "generic", "ca_file": str(ca)}).registries()
    assert (
        pool.ca_file == str(ca) and RegistryClient(registry.host, scheme="https", ca_file=pool.ca_file).ping() is True
    )


def _handshaken(context: ssl.SSLContext) -> ssl.SSLContext:
    """The context as a connection sees it: the public roots load just before the first handshake."""
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
    return context


def test_every_client_verifies_certificates_and_host_names_and_the_trust_store_is_loaded_once() -> None:
    context = verifying_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert verifying_context() is context, "the public roots are loaded once per run"
    assert _handshaken(context).get_ca_certs(), "the public roots (certifi) are trusted"


def test_ca_file_adds_the_private_ca_to_the_public_roots_not_instead_of_them(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    public = _handshaken(verifying_context()).get_ca_certs()
    both = _handshaken(verifying_context(str(ca.ca)))
    assert public and both.verify_mode == ssl.CERT_REQUIRED and both.check_hostname
    assert len(both.get_ca_certs()) == len(public) + 1


def test_the_public_roots_are_loaded_before_the_first_handshake_and_only_then() -> None:
    """registry/tls.py: a run that speaks only plain HTTP (loopback registries) never loads the trust store;
    a TLS socket or BIO made from the context has it loaded first, and the context is otherwise what
    ``ssl.create_default_context`` makes (certificates and host names verified)."""
    import socket
    import ssl

    import certifi

    from provider_helper.registry.tls import verifying_context

    default = ssl.create_default_context(cafile=certifi.where())
    for make in ("bio", "socket"):
        context = verifying_context.__wrapped__()  # a fresh one, not the run's cached one
        for setting in ("verify_mode", "check_hostname", "options", "verify_flags", "minimum_version"):
            assert getattr(context, setting) == getattr(default, setting), setting
        assert context.cert_store_stats()["x509_ca"] == 0, "nothing loaded before a handshake"
        if make == "bio":
            context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
        else:
            with socket.socket() as plain, context.wrap_socket(plain, server_hostname="example.com"):
                pass
        assert context.cert_store_stats() == default.cert_store_stats(), make
