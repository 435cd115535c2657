"""Shared fixtures: one local stack per test session (real Distribution registries, token server)."""

from __future__ import annotations

import compileall
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ProcessState
from hostile import ScriptedServer
from realclients import Containerd, ContainersTool, Helm, install_helm
from upstreams import StandIn, start_upstreams

import provider_helper
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.registry import LocalRegistry
from provider_helper.sandbox.stack import Sandbox

# Fixtures that start a real part (Distribution registries, moto, the token server, Terraform with the
# AWS provider): a test using any of them, directly or through another fixture, is in the full suite
# only. Everything else (units, the engine against its in-memory store, scripted servers, the NGC
# stand-in, the CLI) is the fast tier: ./scripts/test.sh --fast.
# Every Go program the tests start (Distribution, skopeo, Terraform and its AWS provider) collects
# garbage four times less often: Terraform and the AWS provider (started three times per plan) build
# large schemas, and GOGC=400 cuts a one-repository plan's CPU by about a fifth (5.8 s to 4.6 s, with
# the provider's endpoints in the environment, see moto_provider_block). Only the collector's pace
# changes, not what any program does.
os.environ.setdefault("GOGC", "400")

REAL_PARTS = frozenset(
    {
        "sandbox",
        "tls_registry",
        "terraform_root",
        "tf_bin",
        "terraform_cli_config",
        "terraform_env",
        "open_registry",
        "upstreams",
        "helms",
        "podman",
        "buildah",
        "containerd",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that start a real part, and start the Terraform tests first: they are the run's
    longest (tests/terraform/test_module.py lists them longest first), and a worker that picks one up
    late ends the run minutes after the others (scripts/test.sh hands out one test at a time)."""
    for item in items:
        if REAL_PARTS & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("ngcsdk"):
            item.add_marker(pytest.mark.real_parts)
    items.sort(key=lambda item: "tf_bin" not in getattr(item, "fixturenames", ()))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the package once, before the workers start: Terraform's data sources and provisioner,
    and the tests about the process, run the package in about a hundred processes, and where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it) each one would compile every module
    again, which an installed package never does."""
    if not hasattr(session.config, "workerinput"):
        compileall.compile_dir(str(Path(provider_helper.__file__).parent), quiet=1)


@pytest.fixture(autouse=True)
def process_state_put_back() -> Iterator[None]:
    """What a test's in-process run of a front door (``terraform.main``, ``cli.root.run``) changes for the
    whole process (logging, learnt secrets, the front door's wording) is put back after it, so that the
    next test on this worker starts as a fresh process would."""
    saved = ProcessState.save()
    yield
    saved.restore()


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """nvcf-mirror's cache (checked manifests, blob locations) per test session, not the user's."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["NVCF_MIRROR_CACHE_DIR"] = str(path)
    yield path
    os.environ.pop("NVCF_MIRROR_CACHE_DIR", None)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    stack = Sandbox(tmp_path_factory.mktemp("sandbox")).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def source(sandbox: Sandbox) -> Iterator[Factory]:
    factory = sandbox.source_factory()
    yield factory
    factory.close()


@pytest.fixture
def ns() -> str:
    """A unique repository namespace, so tests sharing the session's registries never collide."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def servers() -> Iterator[list[ScriptedServer]]:
    """Hostile or lax servers a test starts (hostile.ScriptedServer); closed after the test."""
    made: list[ScriptedServer] = []
    yield made
    for server in made:
        server.close()


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A Distribution registry without auth on loopback: what the real clients push to and pull from."""
    registry = LocalRegistry(tmp_path_factory.mktemp("open-registry")).start()
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, StandIn]]:
    """Stand-ins for nvcr.io, Docker Hub, quay.io and ghcr.io (tests/upstreams.py), shared by a module's tests."""
    made = start_upstreams(tmp_path_factory.mktemp("upstreams"))
    yield made
    for stand_in in made.values():
        stand_in.stop()


@pytest.fixture(scope="session")
def helms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Helm]:
    """Real Helm 3.17.1 and 4.1.4 (tests/realclients.py), each with a home of its own, by major version."""
    return {
        version.split(".")[0]: Helm(install_helm(version), tmp_path_factory.mktemp(f"helm-{version}"))
        for version in ("3.17.1", "4.1.4")
    }


def _short_dir(prefix: str) -> Iterator[Path]:
    """A directory with a short path: podman refuses a run root over 50 characters, and a unix socket's
    path is limited to about 100 bytes (pytest's own temporary paths are longer under xdist)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def podman() -> Iterator[ContainersTool]:
    """podman on vfs storage under a temporary root (tests/realclients.py)."""
    yield from (ContainersTool("podman", path) for path in _short_dir("podman-"))


@pytest.fixture(scope="session")
def buildah() -> Iterator[ContainersTool]:
    yield from (ContainersTool("buildah", path) for path in _short_dir("buildah-"))


@pytest.fixture(scope="session")
def containerd() -> Iterator[Containerd]:
    """containerd started by hand on a socket of its own, stopped at the end of the session."""
    for workdir in _short_dir("ctrd-"):
        daemon = Containerd(workdir).start()
        yield daemon
        daemon.stop()
