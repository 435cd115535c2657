"""Progress reporting: a rich display on a terminal, plain log lines everywhere else."""

from __future__ import annotations

import logging
import threading

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from provider_helper.mirror.plan import Job
from provider_helper.results import ArtifactResult, human_bytes

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


class RichReporter(LogReporter):
    """A bar for artifacts and one for bytes, with the per-artifact lines printed above them."""

    def __init__(self, console: Console, total: int) -> None:
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
