"""What an operator sees while a sync works and what it measures: progress at least every interval while Marketo
processes export jobs, and the freshness lag, which is Marketo's time minus the newest activity of each table.

The progress test runs the real command against the sandbox with realistic job latency (jobs take 3 s on a clock
that runs with real time, the progress interval is 1 s) and the shared broker, and reads the gaps between the
timestamps of the lines it printed. The freshness test pins the sandbox's clock, so Marketo's time is known
exactly, and compares with the sandbox's truth."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka.admin import AdminClient

from marketo_stream.intervals import parse_instant
from marketo_stream.metrics import Metrics
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.runner import SyncRunner
from tests.unit.test_run_in_memory import settings_for

INTERVAL_S = 1.0
JOB_S = 3.0
STAMP = re.compile(r"^\[\s*(\d+\.\d)s\] (.*)$")


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    name = f"ops{uuid.uuid4().hex[:8]}"
    yield name
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(name + ".")]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


def stamped(stderr: str) -> list[tuple[float, str]]:
    """The progress lines: (seconds since the start, text)."""
    return [(float(m.group(1)), m.group(2)) for line in stderr.splitlines() if (m := STAMP.match(line))]


SLOW_JOBS: dict[str, Any] = {
    "scale": "tiny",
    "rate_limit_calls": 100_000,
    "clock_speed": 1.0,
    "job_duration_seconds": JOB_S,
    "status_refresh_seconds": 0,
}
"""A sandbox whose export jobs take JOB_S of real time, longer than the progress interval."""


def slow_jobs_env(
    sandbox: Sandbox, tmp_path: Path, prefix: str, bootstrap: str, registry_url: str, *, history_days: int
) -> dict[str, str]:
    """A sync's environment (none of the caller's MARKETO_STREAM_ settings) over ``history_days`` of history."""
    now = parse_instant(requests.get(f"{sandbox.url}/_sandbox/clock", timeout=30).json()["now"])
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MARKETO_STREAM_")},
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.5",
        "MARKETO_STREAM_SYNC__WORK_DIR": str(tmp_path / "work"),
        "MARKETO_STREAM_SYNC__START_DATE": (now.replace(microsecond=0) - _days(history_days)).isoformat(),
    }


@pytest.mark.kafka
def test_progress_is_printed_at_least_every_interval_while_marketo_processes_jobs(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, prefix: str, bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(**SLOW_JOBS)
    env = slow_jobs_env(sandbox, tmp_path, prefix, bootstrap_servers, registry_url, history_days=14) | {
        "MARKETO_STREAM_LOG__PROGRESS_INTERVAL_SECONDS": str(INTERVAL_S),
    }  # two weeks of history: a few export jobs of each kind, each taking JOB_S
    done = subprocess.run(
        [sys.executable, "-m", "marketo_stream", "sync"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]

    lines = stamped(done.stderr)
    gaps = [(later[0] - earlier[0], later[1]) for earlier, later in itertools.pairwise(lines)]
    slowest = max(gaps)
    assert slowest[0] <= INTERVAL_S * 1.5, f"silent for {slowest[0]:.1f}s before {slowest[1]!r}"
    waiting = [text for _, text in lines if text.startswith("working:")]
    assert any(re.search(r"export activities:\S+ (queued behind \d+ job\(s\)|processing) for", t) for t in waiting)
    assert any("export leads:" in t for t in waiting), "the lead load's jobs are shown too"
    assert lines[-1][0] >= JOB_S, "the run did wait on Marketo"


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def test_freshness_lag_is_marketos_time_minus_the_newest_activity_of_each_table(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(scale="tiny", rate_limit_calls=100_000)  # clock pinned: Marketo's now is known
    marketo_now = parse_instant(requests.get(f"{sandbox.url}/_sandbox/clock", timeout=30).json()["now"])
    runner = SyncRunner(settings_for(sandbox, tmp_path), sink=MemorySink())
    try:
        summary = runner.run_once()
    finally:
        runner.close()

    newest_in_truth: dict[str, datetime] = {}
    for table in requests.get(f"{sandbox.url}/_sandbox/truth", timeout=30).json()["tables"]:
        if not table.startswith("activity_") or table == "activity_type":
            continue
        records = requests.get(f"{sandbox.url}/_sandbox/truth/{table}", timeout=60).json()["records"]
        dates = [parse_instant(r["activityDate"]) for r in records if r["activityDate"] >= "2026-09-01T00:00:00Z"]
        if dates:
            newest_in_truth[table] = max(dates)
    assert summary.server_time == marketo_now
    assert summary.newest_by_activity_type == newest_in_truth

    metrics = Metrics()
    metrics.record_run(summary, "mkto")
    lags = {
        s.labels["table"]: s.value
        for s in metrics.registry.collect()
        for s in s.samples
        if s.name == "marketo_stream_freshness_lag_seconds"
    }
    assert lags == {table: (marketo_now - newest).total_seconds() for table, newest in newest_in_truth.items()}
    assert all(lag > 0 for lag in lags.values())
    assert summary.horizon is not None and summary.oldest_activity_window is not None
    assert summary.oldest_activity_window >= summary.horizon == datetime(2026, 9, 1, tzinfo=UTC)


@pytest.mark.kafka
def test_on_a_terminal_the_live_view_shows_each_export_job_and_its_state(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, prefix: str, bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(**SLOW_JOBS)
    env = slow_jobs_env(sandbox, tmp_path, prefix, bootstrap_servers, registry_url, history_days=7) | {"TERM": "xterm"}
    env.pop("COLUMNS", None)
    terminal, stderr = pty.openpty()  # stderr is a terminal of 80 columns, as a person's would be
    summary = tmp_path / "summary.json"  # a file, not a pipe: a full pipe would stop the sync mid-write
    with summary.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "marketo_stream", "sync", "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    os.close(stderr)
    shown = bytearray()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if not select.select([terminal], [], [], 1.0)[0]:
            continue
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    assert process.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))

    assert "export job" in text and "rows committed" in text
    assert re.search(r"activities:\S* +[0-9a-f]{8} +(queued behind \d+ job\(s\)|processing) for \d+s", text), text
    assert "sync complete" in text, "milestones print above the view"
    assert json.loads(summary.read_text())["outcome"] == "completed"
