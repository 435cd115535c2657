"""content/: the stores side by side behind one protocol. mypy checks each store of the package where it
is defined (a ``_CHECKED: type[Protocol] = Class`` line); this checks the same on every store, the
tests' in-memory one included, while the tests are not type-checked: each has every call of the
protocol, with the protocol's parameters."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Protocol

import pytest
from test_engine import MemoryStore

from provider_helper.content.built import BuiltArtifact
from provider_helper.content.layout import Layout
from provider_helper.content.ngc import ResourceVersion
from provider_helper.content.registry import RegistryClient
from provider_helper.content.store import ONE_ATTEMPT, Reader, Retrying, Store, retry_policy
from provider_helper.mirror.layout import LayoutSource
from provider_helper.retry import RetryPolicy


def _calls(protocol: type) -> dict[str, inspect.Signature]:
    members = {
        name
        for cls in protocol.__mro__
        if cls not in (object, Protocol) and Protocol in cls.__mro__
        for name, value in vars(cls).items()
        if callable(value) and not name.startswith("_")
    }
    return {name: inspect.signature(getattr(protocol, name)) for name in members}


def _parameters(signature: inspect.Signature) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    ("store", "protocol"),
    [
        (RegistryClient, Store),
        (Layout, Store),
        (MemoryStore, Store),
        (BuiltArtifact, Reader),
        (ResourceVersion, Reader),
        (LayoutSource, Reader),
    ],
)
def test_each_store_answers_every_call_of_its_protocol(store: type, protocol: type) -> None:
    calls = _calls(protocol)
    assert {"head_manifest", "get_manifest", "tags", "list_referrers", "open_blob", "read_blob"} <= set(calls)
    for name, signature in calls.items():
        assert name in vars(store) or any(name in vars(base) for base in store.__mro__[1:-1]), (
            f"{store.__name__} has no {name}"
        )
        assert _parameters(inspect.signature(getattr(store, name))) == _parameters(signature), (
            f"{store.__name__}.{name}"
        )


def test_retry_is_a_capability_a_store_may_offer(tmp_path: Path) -> None:
    """A registry and the in-memory store say how a blob copy into them is retried; a layout on disk
    does not, and gets one attempt."""
    policy = RetryPolicy(attempts=3, base_delay=0.0)
    assert retry_policy(MemoryStore(retry=policy)) is policy
    assert isinstance(MemoryStore(), Retrying) and not isinstance(Layout(tmp_path), Retrying)
    assert retry_policy(Layout(tmp_path)) is ONE_ATTEMPT
    assert "retry" not in _calls(Store) and "retry" not in getattr(Store, "__annotations__", {})
    assert ONE_ATTEMPT.attempts == 1
