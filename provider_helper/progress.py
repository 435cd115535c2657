"""Progress reporting: a rich display on a terminal, plain log lines everywhere else.

rich is imported only when there is a terminal to draw on (it costs a tenth of a second to import).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from provider_helper.results import ArtifactResult, human_bytes

if TYPE_CHECKING:
    from rich.console import Console

    from provider_helper.mirror.engine import Reporter
    from provider_helper.mirror.plan import Job

log = logging.getLogger("nvcf-mirror")


class LogReporter:
    """One line per finished artifact; for CI logs and Terraform's local-exec output."""

    def started(self, job: Job) -> None:
        log.debug("copying %s -> %s", job.source, job.target)

    def transferred(self, n: int) -> None:
        pass

    def finished(self, result: ArtifactResult) -> None:
        if result.status == "failed":
            log.error("failed   %s: %s", result.target, result.error)
        elif result.status == "skipped":
            log.warning("skipped  %s: %s", result.key, result.error)
        else:
            extra = f" ({human_bytes(result.bytes_copied)})" if result.bytes_copied else ""
            log.info("%-8s %s@%s%s", result.status, result.target, result.digest, extra)


def on_terminal() -> bool:
    return sys.stderr.isatty()


@functools.cache
def stderr_console() -> Console:
    """The one console that progress bars and log lines share, so they do not garble each other."""
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def reporting(total: int, *, live: bool = True) -> Iterator[Reporter]:
    """Bars on a terminal (when ``live``), log lines otherwise."""
    if live and on_terminal():
        with RichReporter(stderr_console(), total) as reporter:
            yield reporter
    else:
        yield LogReporter()


class RichReporter(LogReporter):
    """A bar for artifacts and one for bytes, with the per-artifact lines printed above them."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._lock = threading.Lock()
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), DownloadColumn(), TransferSpeedColumn(),
            console=console, transient=True,
        )
        self._artifacts = self.progress.add_task("artifacts", total=total)
        self._bytes = self.progress.add_task("uploaded", total=None)

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def transferred(self, n: int) -> None:
        self.progress.advance(self._bytes, n)

    def finished(self, result: ArtifactResult) -> None:
        with self._lock:
            super().finished(result)
            self.progress.advance(self._artifacts)
