"""What a sync costs in Marketo's scarce resources, under Marketo's real limits: calls, export jobs and export MB per
table for a first sync of a world and for an incremental sync of a quiet hour after it, and the first sync's wall
time in Marketo time against the floor Marketo's limits set.

The sandbox runs in its own process with Marketo's real limits (100 calls per 20 s, 10 in flight, two export jobs
processing at once, each ``JOB_SECONDS`` long, status refreshed once a minute), its clock still. The sync
runs in this process on *virtual time*: every wait it makes (status polls, rate pacing, backoff) advances the sandbox's
clock instead of sleeping, so hours of Marketo time pass in the minutes the sync's own work takes. The Marketo time
printed is the waits plus the real time of the work. The figures:
- per table: calls (identity and status polls included), export jobs created, of them jobs that found no row, and
  export MB downloaded; the same for the incremental sync, with the activities it published;
- the floor: jobs that held data ÷ 2 slots × job latency, plus the counted REST calls at 100 per 20 s;
- each figure next to its target: first-sync calls at most half of ``BEFORE`` (the calls main's code spent on the same
  world, measured with this benchmark before the work on them), a quiet hour under 50 calls, no export job for an
  empty window, first-sync Marketo time within 1.25x of the floor.

Settings (environment): ``BENCH_CALLS_SCALE`` (``bench``: 1,000,000 activities, 100,000 leads; ``small``/``tiny`` for
quick figures), ``BENCH_CALLS_SINK`` (``kafka``, the real broker, default; ``memory`` for tiny/small).
``BENCH_CALLS_START_DATE`` limits history (default: none, Marketo's 25-month retention, as a user's first sync).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.bench_sandbox import SETTINGS as BENCH_SANDBOX
from bench.bench_sandbox import _start
from bench.bench_sync import BOOTSTRAP, REGISTRY, _clean_up

JOB_SECONDS = 120.0
"""Marketo runs an export job for minutes; the sandbox's default, kept here so the floor names it."""
STATUS_REFRESH_SECONDS = 60.0
JOB_LATENCY = math.ceil(JOB_SECONDS / STATUS_REFRESH_SECONDS) * STATUS_REFRESH_SECONDS
"""When a job is seen done: its run, up to the next status refresh."""
RATE_CALLS, RATE_WINDOW = 100, 20.0
OUR_CALLS = 95
"""The sync's pace: all of Marketo's rate but a margin (the floor counts all 100)."""
QUIET_SECONDS = {"tiny": 3600, "small": 3600, "demo": 600, "bench": 240}
"""How far the clock moves before the incremental sync: an hour, or less where the world makes more than 100
activities an hour (the bench world makes about 1,250 an hour: four minutes make about 80)."""
BEFORE = {"bench": 0, "demo": 539, "small": 454, "tiny": 437}
"""First-sync calls of main's code before this work (``BENCH_CALLS_SCALE=<scale> make bench BENCH=bench_calls``)."""
TARGET_QUIET_CALLS = 50
TARGET_FLOOR_RATIO = 1.25


class VirtualTime:
    """A ``Clock`` whose sleeps move the sandbox's clock (and its rate window) instead of the process: time moves only
    by waits, on a timeline shared by every thread (a wait ends at its deadline, so two threads waiting at once
    advance it once). The sync's own work takes no Marketo time here; it is added to the figures afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.advanced = 0.0
        self._origin = datetime.now(UTC)
        self._lock = threading.Lock()
        self._session = requests.Session()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=self.advanced)

    def monotonic(self) -> float:
        return self.advanced

    def marketo_now(self) -> datetime:
        """The sandbox's own clock."""
        now = self._session.get(f"{self.url}/_sandbox/clock", timeout=60).json()["now"]
        return datetime.fromisoformat(str(now).replace("Z", "+00:00"))

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        deadline = self.monotonic() + seconds
        with self._lock:
            ahead = deadline - self.monotonic()
            if ahead > 0:
                self._session.post(f"{self.url}/_sandbox/clock", json={"advance_seconds": ahead}, timeout=60)
                self.advanced += ahead


@dataclass
class SyncCost:
    """One sync's figures."""

    by_table: dict[str, dict[str, int]]
    calls_by_endpoint: dict[str, int]
    records: Counter[str]
    jobs: list[dict[str, Any]] = field(default_factory=list)
    """The export jobs it created (``numberOfRecords``, ``fileSize``), from Marketo's job lists."""
    waited: float = 0.0
    worked: float = 0.0

    @property
    def calls(self) -> int:
        return sum(figures["calls"] for figures in self.by_table.values())

    @property
    def counted_calls(self) -> int:
        """Calls Marketo counts against the rate limit (identity calls are free)."""
        return sum(n for endpoint, n in self.calls_by_endpoint.items() if "/identity/" not in endpoint)

    @property
    def empty_jobs(self) -> int:
        return sum(1 for job in self.jobs if not job.get("numberOfRecords"))

    @property
    def marketo_seconds(self) -> float:
        return self.waited + self.worked

    def floor_seconds(self) -> float:
        """Marketo's floor: the jobs that held data through 2 slots at the job latency, and the counted calls at 100
        per 20 s."""
        with_data = len(self.jobs) - self.empty_jobs
        return math.ceil(with_data / 2) * JOB_LATENCY + self.counted_calls * RATE_WINDOW / RATE_CALLS

    def activities(self) -> int:
        return sum(n for table, n in self.records.items() if table.startswith("activity_"))


def main() -> None:
    scale = os.environ.get("BENCH_CALLS_SCALE", "bench")
    sink_kind = os.environ.get("BENCH_CALLS_SINK", "kafka")
    prefix = f"bench-calls-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, _sandbox(scale, Path(tmp)) as (url, client_id, secret):
        try:
            first, incremental = _two_syncs(scale, sink_kind, prefix, Path(tmp), url, client_id, secret)
        finally:
            if sink_kind == "kafka":
                _clean_up(prefix)
    _print(scale, first, incremental)


@contextmanager
def _sandbox(scale: str, tmp: Path) -> Iterator[tuple[str, str, str]]:
    config: dict[str, Any] = {
        **(BENCH_SANDBOX if scale == "bench" else {"seed": 1, "scale": scale}),
        "clock_speed": 0,  # only the sync's waits move Marketo's clock (a moving clock makes every call derive anew)
        "job_duration_seconds": JOB_SECONDS,
        "status_refresh_seconds": STATUS_REFRESH_SECONDS,
        "rate_limit_calls": RATE_CALLS,
        "rate_limit_window_seconds": RATE_WINDOW,
        "export_daily_quota_mb": 100_000,
        "daily_quota": 1_000_000,
    }
    path = tmp / "sandbox.json"
    path.write_text(json.dumps(config))
    server, url, client_id, secret = _start(path)
    try:
        yield url, client_id, secret
    finally:
        server.terminate()
        server.wait(timeout=30)


def _two_syncs(
    scale: str, sink_kind: str, prefix: str, tmp: Path, url: str, client_id: str, secret: str
) -> tuple[SyncCost, SyncCost]:
    from marketo_stream.settings import load_settings
    from marketo_stream.sink.memory import MemorySink

    env = {
        "MARKETO_STREAM_BASE_URL": url,
        "MARKETO_STREAM_CLIENT_ID": client_id,
        "MARKETO_STREAM_CLIENT_SECRET": secret,
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": REGISTRY,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_MARKETO__CALLS_PER_WINDOW": str(OUR_CALLS),
        "MARKETO_STREAM_MARKETO__MAX_CONCURRENCY": "5",  # Marketo's advice for one integration of several
        "MARKETO_STREAM_MARKETO__EXPORT_DAILY_MB": "100000",
        "MARKETO_STREAM_SYNC__WORK_DIR": str(tmp / "work"),
    }
    if os.environ.get("BENCH_CALLS_START_DATE"):
        env["MARKETO_STREAM_SYNC__START_DATE"] = os.environ["BENCH_CALLS_START_DATE"]
    settings = load_settings(None, env)
    clock = VirtualTime(url)
    memory = MemorySink() if sink_kind == "memory" else None
    first = _sync(settings, clock, memory)
    clock.sleep(QUIET_SECONDS.get(scale, 3600))
    if memory is not None:
        memory = MemorySink(
            states=memory.states(), published={t.topic_suffix: t.value_schema for t in memory.tables.values()}
        )
    incremental = _sync(settings, clock, memory)
    return first, incremental


def _sync(settings: Any, clock: VirtualTime, memory: Any) -> SyncCost:
    from marketo_stream.marketo.client import MarketoClient
    from marketo_stream.report import Progress
    from marketo_stream.sync.runner import SyncRunner

    client = MarketoClient.from_settings(settings.marketo, clock=clock)
    quiet = os.environ.get("BENCH_CALLS_VERBOSE") != "1"
    runner = SyncRunner(settings, clock=clock, client=client, sink=memory, progress=Progress(quiet=quiet))
    waited_before, began = clock.advanced, time.monotonic()
    marketo_began = clock.marketo_now()
    try:
        summary = runner.run_once()
        worked = time.monotonic() - began
        jobs = _jobs_since(client, marketo_began)
    finally:
        runner.close()
    return SyncCost(
        by_table=summary.calls_by_table,
        calls_by_endpoint=summary.api_calls,
        records=summary.records,
        jobs=jobs,
        waited=clock.advanced - waited_before,
        worked=worked,
    )


def _jobs_since(client: Any, since: datetime) -> list[dict[str, Any]]:
    """The export jobs created since ``since`` (Marketo time), from the job lists of every object kind."""
    from marketo_stream.marketo.paging import position_token_pages

    jobs: list[dict[str, Any]] = []
    for kind in ("leads", "activities", "program/members", "customobjects/car_c"):
        for page in position_token_pages(client, f"/bulk/v1/{kind}/export.json"):
            for job in page.rows:
                created = datetime.fromisoformat(str(job["createdAt"]).replace("Z", "+00:00"))
                if created >= since.astimezone(UTC) and job.get("status") == "Completed":
                    jobs.append({**job, "kind": kind})
    return jobs


def _print(scale: str, first: SyncCost, incremental: SyncCost) -> None:
    for name, cost in (("first sync", first), ("incremental sync (quiet)", incremental)):
        print(
            f"{name}: {cost.calls:,} calls ({cost.counted_calls:,} counted), {len(cost.jobs)} export jobs "
            f"({cost.empty_jobs} empty), {sum(int(j.get('fileSize') or 0) for j in cost.jobs) / 1e6:,.1f} export MB; "
            f"{cost.activities():,} activities published; Marketo time {cost.marketo_seconds / 60:,.1f} min "
            f"(waits {cost.waited / 60:,.1f} min, work {cost.worked:,.0f} s)"
        )
        width = max(len(t) for t in cost.by_table)
        print(f"  {'table'.ljust(width)}  {'calls':>6}  {'jobs':>4}  {'export MB':>9}")
        for table, figures in sorted(cost.by_table.items(), key=lambda kv: -kv[1]["calls"]):
            print(
                f"  {table.ljust(width)}  {figures['calls']:>6,}  {figures['export_jobs']:>4}"
                f"  {figures['bulk_bytes'] / 1e6:>9.2f}"
            )
        top = sorted(cost.calls_by_endpoint.items(), key=lambda kv: -kv[1])[:8]
        print("  top endpoints: " + ", ".join(f"{endpoint} {n}" for endpoint, n in top))
    floor = first.floor_seconds()
    before = BEFORE.get(scale) or 0
    ratio = first.marketo_seconds / floor if floor else float("nan")
    print(
        f"floor (first sync): {floor / 60:,.1f} min ({len(first.jobs) - first.empty_jobs} jobs with data, 2 at a time, "
        f"{JOB_LATENCY:.0f} s each; {first.counted_calls:,} calls at {RATE_CALLS} per "
        f"{RATE_WINDOW:.0f} s); Marketo time / floor = {ratio:.2f}"
    )
    print("targets:")
    half = f"<= {before // 2:,} (half of {before:,} before)" if before else "<= half of today's (no figure recorded)"
    print(f"  first-sync calls {first.calls:,} {half}: {_met(bool(before) and first.calls <= before // 2)}")
    quiet = incremental.calls
    print(f"  quiet-hour calls {quiet:,} < {TARGET_QUIET_CALLS}: {_met(quiet < TARGET_QUIET_CALLS)}")
    empty = first.empty_jobs + incremental.empty_jobs
    print(f"  export jobs for empty windows {empty} == 0: {_met(empty == 0)}")
    print(f"  first-sync Marketo time / floor {ratio:.2f} <= {TARGET_FLOOR_RATIO}: {_met(ratio <= TARGET_FLOOR_RATIO)}")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
