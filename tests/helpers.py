"""Helpers shared by the tests: run the CLI as a user would, read back with skopeo."""

from __future__ import annotations

import faulthandler
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from click.testing import CliRunner

from provider_helper import progress, redact, wording
from provider_helper.cli.root import run

# What a user's shell may hold that a test must not inherit: each test passes its own.
_UNSET = ("NGC_API_KEY", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE")


def run_cli(
    *args: str, env: dict[str, str] | None = None, check: bool = False, timeout: float = 600, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``nvcf-mirror`` as a user would, with no TTY, and return what it printed and its exit code.

    By default in this process, through the CLI's own ``run`` (what ``main`` calls before it exits):
    the same argument parsing, error lines and exit codes, without 0.4 s of interpreter start and
    imports per call, about two minutes of CPU over the suite (measured 2026-12-01). ``process=True`` runs
    ``python -m provider_helper`` where the process is what a test is about."""
    if process:
        full_env = {k: v for k, v in os.environ.items() if k not in _UNSET}
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "provider_helper", *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    else:
        done = _run_in_process(list(args), {**dict.fromkeys(_UNSET), **(env or {})}, timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"nvcf-mirror {' '.join(args)} exited {done.returncode}\n{done.stderr}")
    return done


def sandbox_cli(
    sandbox: Any, command: str, manifest: Path, *extra: str, prefix: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``nvcf-mirror COMMAND`` reading ``manifest`` from the sandbox's nvcr.io stand-in, into the sandbox's target
    under ``prefix`` when one is given (``save`` and the like take ``--to`` in ``extra`` instead)."""
    target = ("--target", f"{sandbox.target.host}/{prefix}") if prefix is not None else ()
    args = (command, "--manifest", str(manifest), "--source-registry", sandbox.source.host, *target, *extra)
    return run_cli(*args, env=sandbox.env())


def _run_in_process(args: list[str], env: dict[str, str | None], timeout: float) -> subprocess.CompletedProcess[str]:
    """The CLI in this process: click's test isolation swaps the standard streams and the environment;
    the process-wide state a run sets (logging, the secrets it learnt, the front door's wording) is put
    back afterwards, so that one test's run cannot help or hinder the next. A run that hangs past
    ``timeout`` ends this worker with every thread's traceback, as a hung subprocess would fail."""
    saved = ProcessState.save()
    faulthandler.dump_traceback_later(timeout, exit=True, file=sys.__stderr__ or sys.stderr)
    try:
        with CliRunner().isolation(env=env) as (out, err, _):
            code = run(args)
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue().decode(errors="replace"), err.getvalue().decode(errors="replace")
    finally:
        faulthandler.cancel_dump_traceback_later()
        saved.restore()
    return subprocess.CompletedProcess(["nvcf-mirror", *args], code, stdout, stderr)


def _loggers() -> dict[str, logging.Logger]:
    """Every logger by name, the root as ""."""
    named = {
        name: logger for name, logger in logging.root.manager.loggerDict.items() if isinstance(logger, logging.Logger)
    }
    return {"": logging.getLogger(), **named}


@dataclass
class ProcessState:
    """What a CLI run changes for the whole process (see provider_helper.progress.setup_logging,
    provider_helper.redact.remember, provider_helper.wording.use)."""

    handlers: list[logging.Handler]
    levels: dict[str, int]
    bars: bool
    secrets: set[str]
    door: str

    @classmethod
    def save(cls) -> ProcessState:
        levels = {name: logger.level for name, logger in _loggers().items()}
        return cls(logging.getLogger().handlers[:], levels, progress.OUTPUT.bars, set(redact._secrets), wording._door)

    def restore(self) -> None:
        logging.getLogger().handlers[:] = self.handlers
        for name, logger in _loggers().items():  # a logger the run made (from a placeholder) goes back to NOTSET
            logger.setLevel(self.levels.get(name, logging.NOTSET))
        progress.OUTPUT.bars = self.bars
        with redact._lock:
            redact._secrets.clear()
            redact._secrets.update(self.secrets)
        wording.use(self.door)


def skopeo_raw(reference: str, *, authfile: Path | None = None, creds: str | None = None) -> bytes:
    """The manifest bytes as skopeo (an independent client) reads them."""
    cmd = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
    if authfile:
        cmd += ["--authfile", str(authfile)]
    if creds:
        cmd += ["--creds", creds]
    done = subprocess.run([*cmd, f"docker://{reference}"], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise LookupError(done.stderr.decode(errors="replace").strip())
    return done.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_manifest(path: Path, artifacts: list[dict[str, Any]], groups: list[dict[str, Any]] | None = None) -> Path:
    doc = {
        "apiVersion": "nvcf-mirror/v1",
        "groups": groups or [{"name": "test", "default": True}],
        "artifacts": artifacts,
    }
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def tgz(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """A .tar.gz of ``files`` (name -> bytes) and symbolic ``links`` (name -> target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def tar_archive(path: Path, entries: list[tuple[str, str, object]], mode: Literal["w", "w:gz"] = "w") -> Path:
    """Entries: (name, kind, payload): kind file (bytes or a size of zeros), dir, sym/lnk (link target), fifo."""
    with tarfile.open(path, mode) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload if isinstance(payload, bytes) else None
                info.size = len(data) if data is not None else int(payload)  # type: ignore[call-overload]
                tar.addfile(info, io.BytesIO(data) if data is not None else io.BufferedReader(_Zeros(info.size)))  # type: ignore[type-var]
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "sym": tarfile.SYMTYPE,
                "lnk": tarfile.LNKTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[kind]
            info.linkname = str(payload or "")
            tar.addfile(info)
    return path


def cve_2025_4517_archive(path: Path, outside: Path) -> Path:
    """The overlong-path symlink chain that walks past ``filter='data'`` on Python < 3.11.13: realpath
    stops resolving once the path exceeds PATH_MAX, so the final link looks like it stays inside."""
    component = "d" * 247
    steps = "abcdefghijklmnop"
    entries: list[tuple[str, str, object]] = []
    here = ""
    for step in steps:
        entries.append((os.path.join(here, component), "dir", None))
        entries.append((os.path.join(here, step), "sym", component))
        here = os.path.join(here, component)
    long_link = os.path.join(*steps, "l" * 254)
    entries.append((long_link, "sym", "../" * len(steps)))
    entries.append(("escape", "sym", f"{long_link}/{'../' * 30}{str(outside).lstrip('/')}"))
    entries.append(("escape/written-outside", "file", b"pwned"))
    return tar_archive(path, entries)
