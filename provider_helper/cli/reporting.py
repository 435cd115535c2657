"""The few steps every copying command ends with: the result file, the summary line, the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from provider_helper.exits import ExitCode, results_code
from provider_helper.fsutil import atomic_write
from provider_helper.mirror.plan import Job
from provider_helper.progress import log_summary
from provider_helper.results import ArtifactResult, document, dumps
from provider_helper.session import RunConfig


def discard_stale(result_file: str | None) -> None:
    """A result file left by an earlier run must not look current when this one stops early."""
    if result_file:
        Path(result_file).unlink(missing_ok=True)


def exit_for(results: list[ArtifactResult]) -> None:
    code = results_code(results)
    if code != ExitCode.DONE:
        sys.exit(code)


def report_copy(
    config: RunConfig,
    jobs: list[Job],
    results: list[ArtifactResult],
    seconds: float,
    result_file: str | None,
    *,
    dry_run: bool,
) -> None:
    """mirror, load and resources download --push: write the result document, log the summary, exit 0 or 1."""
    doc = document(config.target, results, seconds, config.helm_values(jobs))
    if result_file:
        atomic_write(Path(result_file), dumps(doc))
    log_summary(doc, results, dry_run=dry_run)
    exit_for(results)
