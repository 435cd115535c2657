"""What an operator reads: bars in a real pseudo-terminal, timestamped lines in a pipe, --quiet,
and --log-format json."""

from __future__ import annotations

import json
import logging
import math
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ProcessState, run_cli, write_manifest

from provider_helper import progress
from provider_helper.redact import remember
from provider_helper.results import ArtifactResult, Status, document
from provider_helper.sandbox.images import Factory
from provider_helper.sandbox.stack import Sandbox

TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z nvcf-mirror: ")


@pytest.fixture
def four_images(source: Factory, ns: str, tmp_path: Path) -> Path:
    for i in range(4):
        source.image(f"{ns}/nvidia/p{i}", "1.0", layer_sizes=(300_000,))
    return write_manifest(
        tmp_path / "m.yaml",
        [{"type": "image", "source": f"nvcr.io/{ns}/nvidia/p{i}:1.0", "group": "test"} for i in range(4)],
    )


def _args(sandbox: Sandbox, manifest: Path, prefix: str) -> list[str]:
    return [
        "mirror",
        "--manifest",
        str(manifest),
        "--source-registry",
        sandbox.source.host,
        "--target",
        f"{sandbox.target.host}/{prefix}",
    ]


def test_in_a_pipe_every_line_is_timestamped_with_sizes_in_binary_units_and_no_control_codes(
    sandbox: Sandbox, four_images: Path, ns: str
) -> None:
    done = run_cli(*_args(sandbox, four_images, ns), env=sandbox.env())
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert all(TIMESTAMPED.match(line) for line in lines), done.stderr
    assert "\x1b" not in done.stderr
    copied = [line for line in lines if " copied " in line]
    assert len(copied) == 4 and all(re.search(r"@sha256:[0-9a-f]{64} \(\d+\.\d KiB\)$", line) for line in copied), (
        copied
    )
    assert re.search(r"4 copied, 0 present, 0 failed, 0 skipped; \d+\.\d (KiB|MiB) in \d+\.\ds$", lines[-1]), lines[-1]


def test_in_a_pipe_a_progress_line_comes_at_the_interval_with_bytes_rate_and_artifacts(
    sandbox: Sandbox, four_images: Path, ns: str
) -> None:
    done = run_cli(*_args(sandbox, four_images, ns), env={**sandbox.env(), "NVCF_MIRROR_PROGRESS_INTERVAL": "0"})
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if " progress " in line]
    pattern = (
        r"nvcf-mirror: progress (\d+(?:\.\d)?) (B|KiB|MiB) of \d+\.\d (KiB|MiB), "
        r"\d+(?:\.\d)? (B|KiB|MiB|GiB)/s, (\d) of 4 artifacts$"
    )
    assert progress and all(re.search(pattern, line) for line in progress), progress
    finished = [int(re.search(pattern, line)[5]) for line in progress]  # type: ignore[index]
    assert finished == sorted(finished), "artifacts done never goes back"
    # the default interval, 10 s: a short run shows none
    quiet = run_cli(*_args(sandbox, four_images, ns + "-again"), env=sandbox.env())
    assert " progress " not in quiet.stderr


def test_quiet_prints_errors_and_the_summary_only(sandbox: Sandbox, four_images: Path, ns: str) -> None:
    done = run_cli("--quiet", *_args(sandbox, four_images, ns), env=sandbox.env())
    assert done.returncode == 0, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "4 copied" in done.stderr
    broken = run_cli(
        "--quiet",
        *_args(sandbox, four_images, ns),
        "--source-registry",
        "127.0.0.1:9",
        "--retries",
        "1",
        env=sandbox.env(),
    )
    assert broken.returncode == 1
    lines = broken.stderr.splitlines()
    assert len(lines) == 2, broken.stderr
    assert "cannot reach 127.0.0.1:9" in lines[0] and "4 artifacts are not tried" in lines[0], broken.stderr
    assert "4 failed" in lines[1], "errors (the unreachable source, said once) and the summary"


def test_log_format_json_is_one_object_per_event_that_matches_the_result_document(
    sandbox: Sandbox, four_images: Path, ns: str, tmp_path: Path
) -> None:
    done = run_cli(
        "--log-format",
        "json",
        *_args(sandbox, four_images, ns),
        "--result-file",
        str(tmp_path / "r.json"),
        env=sandbox.env(),
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    doc = json.loads((tmp_path / "r.json").read_text())
    artifacts = {e["key"]: e for e in events if e.get("event") == "artifact"}
    assert {k: (e["status"], e["digest"], e["bytes_copied"]) for k, e in artifacts.items()} == {
        a["key"]: (a["status"], a["digest"], a["bytes_copied"]) for a in doc["artifacts"]
    }
    [summary] = [e for e in events if e.get("event") == "summary"]
    assert summary["bytes_copied"] == doc["summary"]["bytes_copied"] and summary["copied"] == 4
    assert all({"time", "level", "message"} <= set(e) for e in events)


def _in_a_terminal(argv: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its standard streams; returns its exit code and all it drew."""
    controller, terminal = pty.openpty()
    full_env = (
        {k: v for k, v in os.environ.items() if k not in ("NGC_API_KEY", "DOCKER_CONFIG")}
        | env
        | {"COLUMNS": "120", "TERM": "xterm"}
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "provider_helper", *argv], stdin=terminal, stdout=terminal, stderr=terminal, env=full_env
    )
    os.close(terminal)
    drawn = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not chunk:
                break
            drawn += chunk
        elif run.poll() is not None:
            break
    os.close(controller)
    return run.wait(30), drawn.decode(errors="replace")


def test_in_a_terminal_bars_count_artifacts_and_bytes_in_binary_units(
    sandbox: Sandbox, four_images: Path, ns: str
) -> None:
    code, drawn = _in_a_terminal(_args(sandbox, four_images, ns), sandbox.env())
    assert code == 0, drawn
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    assert re.search(r"artifacts\s.*\d/4", plain), "the artifacts bar counts artifacts"
    assert re.search(r"bytes\s.*\d+(\.\d+)?/\d+(\.\d+)? (KiB|MiB)", plain), (
        "the bytes bar has a known total in binary units"
    )
    assert "bytes/s" not in plain and "?" not in re.findall(r"bytes\s[^\n]*", plain)[-1]
    assert not re.search(r"\d(\.\d)? [kMG]B/s", plain), (
        "rates in the units of the sizes (KiB/s, MiB/s), never kB/s or MB/s"
    )
    assert re.search(r"\d(\.\d)? (KiB|MiB)/s", plain)
    assert "INFO" not in plain, "no log level in front of the terminal's lines"
    assert len(re.findall(r"copied\s+\S+@sha256:", plain)) == 4, "one line per artifact"
    assert re.search(r"4 copied, 0 present, 0 failed, 0 skipped; \d+\.\d (KiB|MiB)", plain)


def test_a_dry_runs_summary_line_ends_would_copy_the_planned_count_and_the_bytes_to_send(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """README Upgrading: mirror --dry-run "its summary line ends would copy N, SIZE to send"."""
    from provider_helper.progress import log_summary
    from provider_helper.results import ArtifactResult, document

    results = [
        ArtifactResult("image:a:1.0", "image", "g", "nvcr.io/o/a:1.0", "t/a:1.0", status="planned", bytes_to_copy=3072),
        ArtifactResult("image:b:1.0", "image", "g", "nvcr.io/o/b:1.0", "t/b:1.0", status="planned", bytes_to_copy=1024),
        ArtifactResult("image:c:1.0", "image", "g", "nvcr.io/o/c:1.0", "t/c:1.0", status="present"),
    ]
    with caplog.at_level("INFO", logger="nvcf-mirror.summary"):
        log_summary(document("t", results, 0.5), results, dry_run=True)
        log_summary(document("t", results, 0.5), results)
    dry, wet = (r.getMessage() for r in caplog.records if r.name == "nvcf-mirror.summary")
    assert dry == "0 copied, 1 present, 0 failed, 0 skipped; 0 B in 0.5s; would copy 2, 4.0 KiB to send", dry
    assert wet == "0 copied, 1 present, 0 failed, 0 skipped; 0 B in 0.5s"


def _json_events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_log_format_json_writes_a_progress_event_with_bytes_and_artifacts(capsys: pytest.CaptureFixture[str]) -> None:
    """README Use, Output: "`--log-format json` writes one JSON object per event (... `"event": "progress"` and
    `"event": "summary"`)": the progress line as its event, with the figures the text line shows. The reporter is
    called directly (the interval is 0 so the first bytes make a line; the e2e run above is too quick for one)."""
    from provider_helper.progress import LogReporter, setup_logging

    setup_logging(log_format="json")
    reporter = LogReporter(total=3, interval=0)
    reporter.planned(2048)
    reporter.transferred(1024)
    [event] = _json_events(capsys)
    assert event["event"] == "progress" and event["level"] == "info"
    assert {k: event[k] for k in ("bytes_done", "bytes_planned", "artifacts_done", "artifacts")} == {
        "bytes_done": 1024,
        "bytes_planned": 2048,
        "artifacts_done": 0,
        "artifacts": 3,
    }
    assert str(event["message"]).startswith("progress 1.0 KiB of 2.0 KiB, "), event


def test_log_format_json_event_fields_carry_no_secret_and_no_control_character(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """README Security: every log line built from what a server sent has its control characters escaped, and every
    key the run holds is `<redacted>` in logs: the JSON artifact event's own fields (`error`) too, not only its
    message."""
    from provider_helper.progress import LogReporter, setup_logging
    from provider_helper.redact import remember
    from provider_helper.results import ArtifactResult

    key = "nvapi-" + os.urandom(8).hex()
    remember(key)
    setup_logging(log_format="json")
    failed = ArtifactResult(
        "image:app:1",
        "image",
        "g",
        "nvcr.io/o/app:1",
        "reg.example/p/app:1",
        status="failed",
        error=f"denied for {key}\x1b[2J\nnext",
    )
    LogReporter(total=1, interval=0).finished(failed)
    [event] = _json_events(capsys)
    assert event["event"] == "artifact" and event["key"] == "image:app:1" and event["status"] == "failed"
    assert event["error"] == "denied for <redacted>\\x1b[2J\\nnext", event
    assert key not in json.dumps(event)


@pytest.fixture
def logged(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., list[str]]]:
    """Log lines as a pipe gets them: setup_logging with these options, the reporter's calls, then stderr's lines
    without their timestamps. The process's logging is put back afterwards."""
    saved = ProcessState.save()

    def run(calls: Callable[[], None], **options: Any) -> list[str]:
        progress.setup_logging(**options)
        calls()
        return [TIMESTAMPED.sub("", line) for line in capsys.readouterr().err.splitlines()]

    yield run
    saved.restore()


def _result(status: Status, error: str | None = None) -> ArtifactResult:
    return ArtifactResult(
        "image:a:1", "image", "g", "nvcr.io/o/a:1", "reg.example/p/a:1", "sha256:" + "0" * 64, [], status, 2048, error
    )


def test_quiet_keeps_a_failed_artifact_and_drops_a_skipped_one_and_every_success(
    logged: Callable[..., list[str]],
) -> None:
    """README Output: "-q keeps errors and the summary line"; a skip is a warning, a failure an error."""

    def three() -> None:
        reporter = progress.LogReporter(3)
        reporter.finished(_result("copied"))
        reporter.finished(_result("skipped", "not selected"))
        reporter.finished(_result("failed", "denied"))

    assert logged(three, quiet=True) == ["failed   reg.example/p/a:1: denied"]
    assert logged(three) == [
        f"copied   reg.example/p/a:1@sha256:{'0' * 64} (2.0 KiB)",
        "skipped  image:a:1: not selected",
        "failed   reg.example/p/a:1: denied",
    ]


def test_the_progress_total_is_never_below_what_is_done(logged: Callable[..., list[str]]) -> None:
    """README Output: "progress 1.2 GiB of 3.4 GiB, 45.0 MiB/s, 12 of 41 artifacts": bytes sent past the plan
    (a retried blob) raise the total shown with them."""

    def more_than_planned() -> None:
        reporter = progress.LogReporter(41, interval=0)
        reporter.planned(1024)
        reporter.transferred(3 * 1024 * 1024)

    lines = logged(more_than_planned)
    assert len(lines) == 1 and re.fullmatch(
        r"progress 3\.0 MiB of 3\.0 MiB, \d+\.\d (KiB|MiB|GiB)/s, 0 of 41 artifacts", lines[0]
    ), lines


def test_bars_only_for_text_output_that_is_not_quiet() -> None:
    """progress.py: "--quiet: errors and the summary only. --log-format json: one JSON object per event" (no bars)."""
    saved = ProcessState.save()
    try:
        progress.setup_logging()
        assert progress.OUTPUT.bars is True
        progress.setup_logging(quiet=True)
        assert progress.OUTPUT.bars is False
        progress.setup_logging(log_format="json")
        assert progress.OUTPUT.bars is False
    finally:
        saved.restore()


def test_every_log_line_is_redacted_and_its_control_characters_escaped(logged: Callable[..., list[str]]) -> None:
    """README Security: secrets are replaced by <redacted> in logs; server text's line breaks are written \\n."""

    def secret_in_a_line() -> None:
        remember("s3cr3t-token-value")
        progress.log.info("asked %s with s3cr3t-token-value\nforged line", "https://user:pw@h.example/x")

    assert logged(secret_in_a_line) == ["asked https://<redacted>@h.example/x with <redacted>\\nforged line"]
    assert logged(secret_in_a_line, log_format="json")[0].count("<redacted>") == 2


def test_json_events_carry_the_documented_fields(logged: Callable[..., list[str]]) -> None:
    """README Output: "--log-format json writes one JSON object per event ("event": "artifact" with key, status,
    digest and bytes, "event": "progress" and "event": "summary")", each with its time, level and message."""

    def events() -> None:
        reporter = progress.LogReporter(1, interval=0)
        reporter.planned(2048)
        reporter.transferred(2048)
        reporter.finished(_result("copied"))
        results = [_result("copied")]
        progress.log_summary(document("reg.example/p", results, 1.0), results)

    lines = [json.loads(line) for line in logged(events, log_format="json")]
    assert [e["event"] for e in lines] == ["progress", "artifact", "summary"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in lines)
    assert [e["level"] for e in lines] == ["info", "info", "info"]
    moving, artifact, summary = lines
    assert {k: moving[k] for k in ("bytes_done", "bytes_planned", "artifacts_done", "artifacts")} == {
        "bytes_done": 2048,
        "bytes_planned": 2048,
        "artifacts_done": 0,
        "artifacts": 1,
    }
    assert {k: artifact[k] for k in ("key", "status", "digest", "bytes_copied", "target")} == {
        "key": "image:a:1",
        "status": "copied",
        "digest": "sha256:" + "0" * 64,
        "bytes_copied": 2048,
        "target": "reg.example/p/a:1",
    }
    assert {k: summary[k] for k in ("copied", "present", "failed", "skipped", "bytes_copied")} == {
        "copied": 1,
        "present": 0,
        "failed": 0,
        "skipped": 0,
        "bytes_copied": 2048,
    }


def test_timestamps_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """README Output: each line is timestamped "2026-11-27T12:00:00.000Z nvcf-mirror: …" (UTC, to the millisecond)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        record = logging.LogRecord("nvcf-mirror", logging.INFO, __file__, 1, "copied %s", ("x",), None)
        record.created, record.msecs = 1795780800.25, 250.0  # 2026-11-27T12:00:00.250Z
        line = progress.TimestampFormatter("%(asctime)s nvcf-mirror: %(message)s").format(record)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert line == "2026-11-27T12:00:00.250Z nvcf-mirror: copied x"


def test_the_summary_line_is_counts_bytes_seconds_then_signatures_and_what_a_dry_run_would_do(
    logged: Callable[..., list[str]],
) -> None:
    """The run's last line, kept with -q: "N copied, N present, N failed, N skipped; SIZE in S.Ss", then the
    signatures pushed, and for a dry run "; would copy N, SIZE to send"."""
    copied = _result("copied")
    copied.signatures_copied = 2
    planned = _result("planned")
    planned.bytes_copied, planned.bytes_to_copy = 0, 3 * 1024 * 1024
    results = [copied, _result("failed", "denied"), _result("skipped", "x"), planned]
    doc = document("reg.example/p", results, 12.34)
    assert logged(lambda: progress.log_summary(doc, results), quiet=True) == [
        "1 copied, 0 present, 1 failed, 1 skipped; 6.0 KiB in 12.3s; 2 signatures"
    ]
    assert logged(lambda: progress.log_summary(doc, results, dry_run=True), quiet=True) == [
        "1 copied, 0 present, 1 failed, 1 skipped; 6.0 KiB in 12.3s; 2 signatures; would copy 1, 3.0 MiB to send"
    ]


@pytest.fixture
def a_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Standard error taken for a terminal: what setup_logging and reporting decide then (rich draws into pytest's
    captured stream, which is all these tests read)."""
    saved = ProcessState.save()
    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    progress.stderr_console.cache_clear()
    yield
    saved.restore()
    progress.stderr_console.cache_clear()


def test_on_a_terminal_lines_carry_no_log_level(a_terminal: None, capsys: pytest.CaptureFixture[str]) -> None:
    """README Output: "the terminal's lines carry no log level"."""
    progress.setup_logging()
    progress.log.warning("careful: %s", "x")
    progress.log.error("failed   y")
    err = capsys.readouterr().err
    assert "careful: x" in err and "failed   y" in err
    assert not re.search(r"WARNING|ERROR|INFO", err), err


def test_on_a_terminal_bars_replace_the_progress_lines_and_quiet_has_none(a_terminal: None) -> None:
    """README Output: "On a terminal, an artifacts bar and a bytes bar ... elsewhere ... a progress line"; -q keeps
    errors and the summary line, so no bars."""
    progress.setup_logging()
    with progress.reporting(3) as reporter:
        assert isinstance(reporter, progress.RichReporter)
        assert reporter.interval == math.inf, "no progress lines under the bars"
    with progress.reporting(3, live=False) as reporter:
        assert type(reporter) is progress.LogReporter, "a dry run: lines, no bars"
    progress.setup_logging(quiet=True)
    with progress.reporting(3) as reporter:
        assert type(reporter) is progress.LogReporter
    progress.setup_logging(log_format="json")
    with progress.reporting(3) as reporter:
        assert type(reporter) is progress.LogReporter


def test_a_plans_reporter_logs_failures_and_skips_only(logged: Callable[..., list[str]]) -> None:
    """progress.LogReporter: "successes False: failures and skips only (plan prints its own lines)"."""

    def plan_like() -> None:
        reporter = progress.LogReporter(3, successes=False)
        for status in ("planned", "present", "copied"):
            reporter.finished(_result(status))
        reporter.finished(_result("skipped", "not selected"))
        reporter.finished(_result("failed", "denied"))

    assert logged(plan_like) == ["skipped  image:a:1: not selected", "failed   reg.example/p/a:1: denied"]


def test_a_json_events_fields_are_redacted_too(logged: Callable[..., list[str]]) -> None:
    """README Security: secrets are replaced by <redacted> in logs: in a JSON event's own fields (its error, its
    target) as in its message."""

    def failed_with_a_secret() -> None:
        remember("s3cr3t-token-value")
        progress.LogReporter(1).finished(_result("failed", "denied with s3cr3t-token-value"))

    [line] = logged(failed_with_a_secret, log_format="json")
    assert "s3cr3t-token-value" not in line
    event = json.loads(line)
    assert (
        event["error"] == "denied with <redacted>"
        and event["message"] == "failed   reg.example/p/a:1: denied with <redacted>"
    )
