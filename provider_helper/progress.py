"""Progress and log output: bars on a terminal, timestamped lines elsewhere, JSON on request.

On a terminal: an artifacts bar (counting artifacts), a bytes bar whose total grows as the checks
decide what must be sent (final once they are done), with rate and time left, and one line per
artifact above them. Elsewhere (CI, Terraform's local-exec): one timestamped line per event and no
control codes. ``--quiet``: errors and the summary only. ``--log-format json``: one JSON object per
event. rich is imported only when there is a terminal to draw on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provider_helper import envvars
from provider_helper.redact import RedactingFilter, shown
from provider_helper.results import ArtifactResult, human_bytes

if TYPE_CHECKING:
    from rich.console import Console

    from provider_helper.mirror.engine import Reporter
    from provider_helper.mirror.plan import Job

log = logging.getLogger("nvcf-mirror")
summary_log = logging.getLogger("nvcf-mirror.summary")  # stays on with --quiet


@dataclass
class _Output:
    bars: bool = True  # progress bars on a terminal: off with --quiet and --log-format json


OUTPUT = _Output()


def setup_logging(*, verbose: bool = False, quiet: bool = False, log_format: str = "text") -> None:
    """Where the CLI's log lines go and how they look; the one place that decides."""
    if log_format == "json":
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif on_terminal():
        from rich.logging import RichHandler

        handler = RichHandler(
            console=stderr_console(), show_time=False, show_level=False, show_path=False, markup=False
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(TimestampFormatter("%(asctime)s nvcf-mirror: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    for name in ("nvcf-mirror", "provider_helper"):
        logging.getLogger(name).setLevel(level)
    summary_log.setLevel(logging.INFO)
    OUTPUT.bars = log_format == "text" and not quiet


class TimestampFormatter(logging.Formatter):
    """ISO 8601 UTC times, to the millisecond: lines from CI and Terraform sort and correlate."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class JsonFormatter(TimestampFormatter):
    """One JSON object per line: time, level, message, and the event's fields when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        event = {k: shown(v) if isinstance(v, str) else v for k, v in (getattr(record, "event", None) or {}).items()}
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname.lower(),
                "message": record.getMessage(),
                **event,
            }
        )


class LogReporter:
    """One line per finished artifact, and while bytes move a progress line every ``interval`` seconds
    (bytes done of those planned, rate, artifacts done); for CI logs and Terraform's local-exec output.
    ``successes`` False: failures and skips only (``plan`` prints its own lines). ``interval`` None:
    ``NVCF_MIRROR_PROGRESS_INTERVAL`` (10 s)."""

    def __init__(self, total: int = 0, *, successes: bool = True, interval: float | None = None) -> None:
        self.total, self.successes = total, successes
        self.interval = envvars.number("NVCF_MIRROR_PROGRESS_INTERVAL") if interval is None else interval
        self._lock = threading.Lock()
        self._started = self._last = time.monotonic()
        self._bytes_done = self._bytes_planned = self._finished = 0

    def started(self, job: Job) -> None:
        log.debug("copying %s -> %s", job.source, job.target)

    def transferred(self, n: int) -> None:
        with self._lock:
            self._bytes_done += n
            now = time.monotonic()
            if now - self._last < self.interval:
                return
            self._last = now
            done, planned, finished, rate = (
                self._bytes_done,
                self._bytes_planned,
                self._finished,
                self._bytes_done / (now - self._started),
            )
        event = {
            "event": "progress",
            "bytes_done": done,
            "bytes_planned": planned,
            "artifacts_done": finished,
            "artifacts": self.total,
        }
        log.info(
            "progress %s of %s, %s/s, %d of %d artifacts",
            human_bytes(done),
            human_bytes(max(planned, done)),
            human_bytes(int(rate)),
            finished,
            self.total,
            extra={"event": event},
        )

    def planned(self, n: int) -> None:
        with self._lock:
            self._bytes_planned += n

    def finished(self, result: ArtifactResult) -> None:
        with self._lock:
            self._finished += 1
        if not self.successes and result.status not in ("failed", "skipped"):
            return
        event = {
            "event": "artifact",
            "key": result.key,
            "status": result.status,
            "target": result.target,
            "digest": result.digest,
            "bytes_copied": result.bytes_copied,
            "signatures_copied": result.signatures_copied,
            "error": result.error,
            "note": result.note,
        }
        extra = {"event": event}
        if result.status == "failed":
            log.error("failed   %s: %s", result.target, result.error, extra=extra)
        elif result.status == "skipped":
            log.warning("skipped  %s: %s", result.key, result.error, extra=extra)
        else:
            size = f" ({human_bytes(result.bytes_copied)})" if result.bytes_copied else ""
            log.info("%-8s %s@%s%s", result.status, result.target, result.digest, size, extra=extra)


def on_terminal() -> bool:
    return sys.stderr.isatty()


@functools.cache
def stderr_console() -> Console:
    """The one console that progress bars and log lines share, so they do not garble each other."""
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def reporting(total: int, *, live: bool = True) -> Iterator[Reporter]:
    """Bars on a terminal (when ``live`` and the output is text, not quiet), log lines otherwise."""
    if live and OUTPUT.bars and on_terminal():
        with RichReporter(stderr_console(), total) as reporter:
            yield reporter
    else:
        yield LogReporter(total)


class RichReporter(LogReporter):
    """An artifacts bar and a bytes bar (sizes and rate in binary units), with the per-artifact lines
    printed above them."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.console import Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """MiB/s like the sizes beside it; the average so far until rich has samples for a current speed."""

            def render(self, task: Any) -> Text:
                speed = (
                    task.finished_speed
                    or task.speed
                    or (task.completed / task.elapsed if task.completed and task.elapsed else None)
                )
                return Text(f"{human_bytes(int(speed))}/s" if speed is not None else "", style="progress.data.speed")

        super().__init__(total, interval=math.inf)  # the bars replace the progress lines
        self.artifacts = Progress(
            TextColumn("{task.description:9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        )
        self.bytes = Progress(
            TextColumn("{task.description:9}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            RateColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._artifacts = self.artifacts.add_task("artifacts", total=total)
        self._bytes = self.bytes.add_task("bytes", total=0)
        self._live = Live(Group(self.artifacts, self.bytes), console=console, transient=True, refresh_per_second=8)

    def __enter__(self) -> RichReporter:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def planned(self, n: int) -> None:
        super().planned(n)
        self.bytes.update(self._bytes, total=self._bytes_planned)

    def transferred(self, n: int) -> None:
        super().transferred(n)
        self.bytes.advance(self._bytes, n)

    def finished(self, result: ArtifactResult) -> None:
        super().finished(result)
        self.artifacts.advance(self._artifacts)


def log_summary(doc: dict[str, Any], results: list[ArtifactResult], *, dry_run: bool = False) -> None:
    """The run's last line (kept when quiet); as JSON events, the summary as an event. A dry run's line
    ends with what the copy would do: the artifacts it would copy and the bytes it would send."""
    summary = {**doc["summary"], "skipped": sum(r.status == "skipped" for r in results)}
    signatures = f"; {summary['signatures_copied']} signatures" if summary.get("signatures_copied") else ""
    would = f"; would copy {summary['planned']}, {human_bytes(summary['bytes_to_copy'])} to send" if dry_run else ""
    summary_log.info(
        "%d copied, %d present, %d failed, %d skipped; %s in %.1fs%s%s",
        summary["copied"],
        summary["present"],
        summary["failed"],
        summary["skipped"],
        human_bytes(summary["bytes_copied"]),
        summary["seconds"],
        signatures,
        would,
        extra={"event": {"event": "summary", **summary}},
    )
