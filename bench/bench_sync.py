"""End to end: one first sync of the benchmark world (1,000,000 activities, 100,000 leads) into the real broker.

The sandbox runs in its own process (bench_sandbox's world, clock frozen, jobs done at once, no rate limits), and so
does the sync, so that the peak RSS (VmHWM) printed is the sync's alone. The clock starts when the sync starts,
once the sandbox is ready, and stops when the sync has committed its last transaction. Printed:
- rows published, wall time and the end-to-end rows/s (rows / wall): every phase, from reading the state to the
  last commit, REST calls and bulk exports included;
- where the wall time went: waiting for the sandbox to write export files (status polls and the sleeps between
  them), REST calls outside the exporter, and the sync's own processing (download, CSV read, convert, encode,
  produce, commit);
- peak RSS of the sync process, API calls by endpoint, bulk MB downloaded;
- activity rows/s over the activities phase (``sync_activities``: exports, downloads, reading, converting,
  encoding, producing, commits);
- whether the targets are met: >= 2x the activity rows/s and >= 1.6x the records/s end to end of the figures
  before the row workers (``BEFORE``, or ``BENCH_SYNC_BEFORE=activity_rows_per_s,records_per_s`` measured in the
  same sitting with ``MARKETO_STREAM_SYNC__ROW_WORKERS=1``, the single-process path), < 300 MB peak RSS; with the
  load average, since the broker, the sandbox and anything else running share the machine's two cores.

    .venv/bin/python -m bench bench_sync                                   # row workers: one per core
    MARKETO_STREAM_SYNC__ROW_WORKERS=1 .venv/bin/python -m bench bench_sync  # the single-process path
Its topics and subjects are deleted afterwards. ``BENCH_SYNC_PROFILE=<file>`` writes a cProfile of ``run_once``.
"""

from __future__ import annotations

import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from bench.bench_sandbox import SETTINGS, _peak_rss_mb, _start
from bench.endpoints import BOOTSTRAP, REGISTRY

SANDBOX = {**SETTINGS, "rate_limit_calls": 1_000_000, "daily_quota": 10_000_000, "concurrency_limit": 10}
"""bench_sandbox's world, without the rate limits that would only measure waiting."""
TARGET_RSS_MB = 300
BEFORE = {"activity_rows_per_s": 94_541, "records_per_s": 62_857}
"""The code before the row workers (commit 7e095e8: main's 23725e4 with this bench's phase figure), the better of two
runs on the two-core development machine with nothing else running (load average 0.4 at the start; the other run,
started at 2.1 with the registry just started: 74.7k and 51.0k), 2026-12-07."""
ACTIVITY_SPEEDUP, RECORDS_SPEEDUP = 2.0, 1.6
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    prefix = f"bench-sync-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sandbox.json"
        config.write_text(json.dumps(SANDBOX))
        server, url, client_id, secret = _start(config)
        try:
            now = requests.get(f"{url}/_sandbox/clock", timeout=30).json()["now"]
            env = {
                **os.environ,
                "MARKETO_STREAM_BASE_URL": url,
                "MARKETO_STREAM_CLIENT_ID": client_id,
                "MARKETO_STREAM_CLIENT_SECRET": secret,
                "MARKETO_STREAM_BOOTSTRAP_SERVERS": BOOTSTRAP,
                "MARKETO_STREAM_SCHEMA_REGISTRY_URL": REGISTRY,
                "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
                "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.05",
                "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": "0.2",
                "MARKETO_STREAM_MARKETO__MAX_CONCURRENCY": "10",
                "MARKETO_STREAM_MARKETO__EXPORT_DAILY_MB": "100000",
                "MARKETO_STREAM_SYNC__WORK_DIR": str(Path(tmp) / "work"),
                "MARKETO_STREAM_SYNC__START_DATE": _world_start(now),
            }
            print(f"load average before: {_load()}", flush=True)
            subprocess.run([sys.executable, "-m", "bench.bench_sync", "--child"], env=env, cwd=ROOT, check=True)
            print(f"load average after: {_load()}; sandbox peak RSS {_peak_rss_mb(server.pid):,.0f} MB", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            _clean_up(prefix)


def _world_start(now: str) -> str:
    """The sandbox world's history begins ``history_days`` (120 at bench scale) before its start; a day of margin."""
    from marketo_stream.intervals import format_instant, parse_instant

    return format_instant(parse_instant(now) - timedelta(days=121))


def _before() -> dict[str, float]:
    """``BEFORE``, or the figures given in ``BENCH_SYNC_BEFORE`` (activity rows/s, records/s)."""
    given = os.environ.get("BENCH_SYNC_BEFORE")
    if not given:
        return dict(BEFORE)
    activity, records = (float(part) for part in given.split(","))
    return {"activity_rows_per_s": activity, "records_per_s": records}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class _Waits:
    """Where the wall time went: inside the exporter's iterators (create, enqueue, status polls that block until
    the sandbox has written the file, sleeps between them, downloads), and in REST calls outside them."""

    def __init__(self) -> None:
        self.in_exporter = 0.0
        self.downloading = 0.0
        self.rest_outside = 0.0
        self._inside = False

    @property
    def waiting(self) -> float:
        """For export files to be written: everything inside the exporter but downloads."""
        return self.in_exporter - self.downloading

    def wrap_run(self, run: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = run(*args, **kwargs)
            while True:
                began, self._inside = time.monotonic(), True
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self.in_exporter += time.monotonic() - began
                    self._inside = False
                yield item

        return timed

    def wrap_call(self, call: Callable[..., Any], counter: str) -> Callable[..., Any]:
        """Adds the call's duration to ``counter``; REST time is counted only outside the exporter."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                return call(*args, **kwargs)
            finally:
                if counter == "downloading" or not self._inside:
                    setattr(self, counter, getattr(self, counter) + time.monotonic() - began)

        return timed


class _ActivitiesPhase:
    """Wall time of the activities phase (``sync_activities``: every window's export, download, read, convert,
    encode, produce and commit) and the activity records it published."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rows = 0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def wrap(self, sync: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            tally = args[4]

            def activity_rows() -> int:
                return sum(n for name, n in tally.records.items() if name.startswith("activity_"))

            before, began = activity_rows(), time.monotonic()
            try:
                return sync(*args, **kwargs)
            finally:
                self.seconds += time.monotonic() - began
                self.rows += activity_rows() - before

        return timed


def _child() -> None:
    from marketo_stream.report import Progress
    from marketo_stream.settings import load_settings
    from marketo_stream.sync import runner as sync_runner
    from marketo_stream.sync.activities import sync_activities
    from marketo_stream.sync.runner import SyncRunner

    settings = load_settings(None, os.environ)
    progress = Progress(sys.stderr, interactive=False, quiet=False)
    runner = SyncRunner(settings, progress=progress)
    waits = _Waits()
    exporter = runner.exporter
    exporter.run = waits.wrap_run(exporter.run)  # type: ignore[method-assign]
    exporter.repository.download = waits.wrap_call(exporter.repository.download, "downloading")  # type: ignore[method-assign]
    runner.client.request = waits.wrap_call(runner.client.request, "rest_outside")  # type: ignore[method-assign]
    phase = _ActivitiesPhase()
    setattr(sync_runner, "sync_activities", phase.wrap(sync_activities))  # noqa: B010 (the runner's own name)
    profile_to = os.environ.get("BENCH_SYNC_PROFILE")
    profiler = cProfile.Profile() if profile_to else None
    began = time.monotonic()
    try:
        if profiler is not None:
            profiler.enable()
        summary = runner.run_once()
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
    finally:
        wall = time.monotonic() - began
        runner.close()
    rows = sum(summary.records.values()) + sum(summary.tombstones.values())
    rate = rows / wall
    rss = _peak_rss_mb(os.getpid())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    processing = max(wall - waits.waiting - waits.rest_outside, 1e-9)
    calls = summary.api_calls
    print(f"published: {rows:,} records in {len(summary.records)} tables ({_top(summary.records)})")
    print(f"end to end: {rate:,.0f} rows/s ({rows:,} rows in {wall:.1f}s wall)")
    print(
        f"activities phase: {phase.rate:,.0f} activity rows/s ({phase.rows:,} rows in {phase.seconds:.1f}s wall, "
        f"export jobs and downloads included)"
    )
    print(
        f"where the wall time went: waiting for the sandbox to write export files {waits.waiting:.1f}s; REST calls "
        f"outside the exporter {waits.rest_outside:.1f}s; the sync's own processing {processing:.1f}s "
        f"({rows / processing:,.0f} rows/s; downloads {waits.downloading:.1f}s of it)"
    )
    print(
        f"sync process CPU {usage.ru_utime + usage.ru_stime:.1f}s "
        f"(user {usage.ru_utime:.1f}s, system {usage.ru_stime:.1f}s; librdkafka's threads included)"
    )
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest ended child, KB
    print(f"sync peak RSS (VmHWM): {rss:,.0f} MB; the largest row worker's: {workers_rss:,.0f} MB")
    print(f"API calls: {sum(calls.values()):,} ({_top(calls)})")
    print(f"bulk downloaded: {summary.bulk_bytes / 1e6:,.1f} MB")
    before = _before()
    want_phase = ACTIVITY_SPEEDUP * before["activity_rows_per_s"]
    want_rate = RECORDS_SPEEDUP * before["records_per_s"]
    checks = {
        f"activity rows/s >= {ACTIVITY_SPEEDUP}x {before['activity_rows_per_s']:,.0f} = {want_phase:,.0f}": (
            phase.rate >= want_phase
        ),
        f"records/s end to end >= {RECORDS_SPEEDUP}x {before['records_per_s']:,.0f} = {want_rate:,.0f}": (
            rate >= want_rate
        ),
        f"peak RSS < {TARGET_RSS_MB} MB": rss < TARGET_RSS_MB,
    }
    for label, ok in checks.items():
        print(f"target: {label}: {'met' if ok else 'NOT met'}")
    workers = os.environ.get("MARKETO_STREAM_SYNC__ROW_WORKERS", "one per core")
    print(f"row workers: {workers}; load average {_load()}", flush=True)


def _top(counts: Any, n: int = 6) -> str:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{name} {count:,}" for name, count in ranked[:n])
    return shown + (f", {len(ranked) - n} more" if len(ranked) > n else "")


def _clean_up(prefix: str) -> None:
    """Deletes the run's topics and their subjects, so repeated runs do not fill the broker and the registry."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(f"{prefix}.")]
    if topics:
        for future in admin.delete_topics(topics).values():
            with suppress(Exception):
                future.result(timeout=30)
    with suppress(requests.RequestException):
        subjects = requests.get(f"{REGISTRY}/subjects", timeout=30).json()
        for subject in subjects:
            if isinstance(subject, str) and subject.startswith(f"{prefix}."):
                requests.delete(f"{REGISTRY}/subjects/{subject}", timeout=30)
                requests.delete(f"{REGISTRY}/subjects/{subject}", params={"permanent": "true"}, timeout=30)
    print(f"deleted {len(topics)} topics of {prefix}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        _child()
    else:
        main()
