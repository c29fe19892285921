"""What a person sees: progress while a sync runs, and the summary at its end.

:class:`Progress` is the one place that knows what the run is doing now: the phase, the table, activity windows
done and left, rows committed (and their rate), each export job's state, and what the run is waiting for. The
phases tell it (``step`` for milestones, ``phase``, ``table``, ``windows``, ``job``); counters it reads itself
(rows committed, bytes downloaded) are handed to it as functions (``count_rows_with``, ``count_downloads_with``).

Shown two ways, both on stderr:

- On a terminal, a live view (``rich``) redrawn twice a second under the milestone lines.
- Elsewhere (CI logs, cron mail, a container's log), milestones are plain timestamped lines, and a status line
  follows whenever nothing was printed for ``interval_seconds`` (``log.progress_interval_seconds``): a thread
  writes it, so a run waiting on Marketo (a queued or processing export job, a rate-limit pause, a quota wait,
  the pause between ``--follow`` passes) is never silent for longer than that.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from marketo_stream import logs
from marketo_stream.bulk.exporter import JobState
from marketo_stream.marketo.clock import Clock

if TYPE_CHECKING:
    from rich.console import RenderableType

MB = 1_000_000
DEFAULT_INTERVAL_SECONDS = 30.0
SHOWN_WAIT_SECONDS = 1.0
"""Pauses at least this long are shown as waiting (shorter ones are the rate window's pacing)."""
FINISHED_JOB_STATES = frozenset({"downloaded", "failed", "cancelled", "timed_out"})


@dataclass
class _Job:
    label: str
    state: JobState
    since: float
    """When it entered its state (our monotonic clock)."""
    downloaded_at_start: int = 0
    """The download counter when its download began (downloads run one at a time)."""


@dataclass
class _Waiting:
    why: str
    until: float


class Progress:
    """What the run is doing now, told by the phases and shown on stderr (see the module docstring). Thread-safe:
    the status thread, the live view's refresh and the metrics server read it while the run tells it."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interactive: bool | None = None,
        quiet: bool = False,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self._stream = stream or sys.stderr
        self._interactive = _is_terminal(self._stream) if interactive is None else interactive
        self._quiet = quiet
        self.interval_seconds = interval_seconds
        self._started = time.monotonic()
        self._lock = threading.RLock()
        self._last_line = self._started
        self.last_news = time.time()
        """When the run last told something (Unix time); see :meth:`news_at`."""
        self._moved = (0, 0)
        self._phase = ""
        self._table: str | None = None
        self._windows: tuple[int, int] | None = None
        self._note = ""
        self._jobs: dict[str, _Job] = {}
        self._waiting: _Waiting | None = None
        self._rows: Callable[[], int] = lambda: 0
        self._downloads: Callable[[], int] = lambda: 0
        self._rate_sample: tuple[float, int] | None = None
        self._rate = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Any = None
        self._log_stream: TextIO | None = None

    # -- what the run tells ----------------------------------------------------------------------------------

    def step(self, message: str) -> None:
        """A milestone: always its own line."""
        self.last_news = time.time()
        if self._quiet:
            return
        live = self._live
        if live is not None:  # not under our lock: the live view's refresh takes its own lock, then ours
            live.console.print(f"{self._stamp()} {message}", markup=False, highlight=False)
            return
        with self._lock:
            self._write(f"{self._stamp()} {message}")

    def update(self, message: str) -> None:
        """A running count: shown in the live view; in plain logs it is part of the next status line."""
        self.last_news = time.time()
        with self._lock:
            self._note = message

    def phase(self, name: str) -> None:
        with self._lock:
            self._phase, self._table, self._note = name, None, ""

    @contextmanager
    def table(self, name: str) -> Iterator[None]:
        """Work on one table: shown in the view, and every log line inside carries ``table``."""
        with self._lock:
            previous, self._table = self._table, name
        try:
            with logs.bind(table=name):
                yield
        finally:
            with self._lock:
                self._table = previous

    def windows(self, done: int, left: int) -> None:
        self.last_news = time.time()
        with self._lock:
            self._windows = (done, left)

    def job(self, state: JobState) -> None:
        """An export job's news (``BulkExporter.run(on_job_state=...)``); finished jobs leave the view."""
        now, self.last_news = time.monotonic(), time.time()
        with self._lock:
            if state.state in FINISHED_JOB_STATES:
                self._jobs.pop(state.label, None)
                return
            known = self._jobs.get(state.label)
            if known is not None and known.state.state == state.state and known.state.export_id == state.export_id:
                known.state = state  # same state: keep its start (``ahead`` may have changed)
                return
            self._jobs[state.label] = _Job(state.label, state, now, self._downloads())

    @contextmanager
    def waiting(self, seconds: float, why: str) -> Iterator[None]:
        """A pause of ``seconds`` (for a rate window, a job poll, a quota reset, the next pass): shown with the
        time left while it lasts."""
        self.last_news = time.time()
        with self._lock:
            previous, self._waiting = self._waiting, _Waiting(why, time.monotonic() + seconds)
        try:
            yield
        finally:
            with self._lock:
                self._waiting = previous

    def count_rows_with(self, rows: Callable[[], int]) -> None:
        """Where the number of rows committed so far is read (for the count and the rate)."""
        with self._lock:
            self._rows, self._rate_sample, self._rate = rows, None, 0.0

    def count_downloads_with(self, downloaded: Callable[[], int]) -> None:
        """Where the number of export bytes downloaded so far is read (downloads show x/y MB)."""
        with self._lock:
            self._downloads = downloaded

    def news_at(self) -> float:
        """When the run last had news (Unix time; ``marketo_stream_last_progress_timestamp_seconds``): something
        told, more rows committed or export bytes downloaded since the last time this was asked, or now while a
        planned wait (a job poll, a quota reset, the pause between passes) has not overrun its end."""
        with self._lock:
            moved = (self._rows(), self._downloads())
            waiting = self._waiting is not None and time.monotonic() <= self._waiting.until + 1.0
        if moved != self._moved or waiting:
            self._moved, self.last_news = moved, time.time()
        return self.last_news

    def waiting_reason(self) -> str:
        """Why a pause on Marketo's clock happens now, as far as the view knows."""
        with self._lock:
            polling = any(job.state.state in ("queued", "processing") for job in self._jobs.values())
        return "Marketo: the next job poll, or a retry" if polling else "Marketo: its rate window, or a retry"

    def watch(self, clock: Clock) -> Clock:
        """``clock`` whose longer sleeps show as waiting: every wait on Marketo (a job poll, a rate window, a
        retry's pause) goes through the clock the client and the exporter are given."""
        return _WatchedClock(clock, self)

    # -- showing it ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start showing the status: the live view on a terminal, else the status line every interval."""
        if self._quiet or self._thread is not None or self._live is not None:
            return
        if self._interactive:
            from rich.console import Console
            from rich.live import Live

            on_stderr = self._stream is sys.stderr
            console = Console(file=self._stream, stderr=on_stderr)
            self._live = Live(
                get_renderable=self.renderable,
                console=console,
                refresh_per_second=2,
                transient=True,
                redirect_stderr=on_stderr,
            )
            self._live.start()
            if on_stderr:  # log lines too go through the view's proxy, above the view
                self._log_stream = logs.write_to(sys.stderr)
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()
            if self._log_stream is not None:
                logs.write_to(self._log_stream)
                self._log_stream = None
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=5)

    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _beat(self) -> None:
        """The plain status line whenever nothing was printed for an interval."""
        while True:
            with self._lock:
                due = self._last_line + self.interval_seconds
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            with self._lock:
                if time.monotonic() >= self._last_line + self.interval_seconds:
                    self._write(f"{self._stamp()} {self.status_line()}")

    def status_line(self) -> str:
        """What the run is doing, in one line (the plain form of the live view)."""
        with self._lock:
            parts = [f"working: {self._phase or 'starting'}"]
            if self._table:
                parts.append(f"table {self._table}")
            if self._windows is not None:
                parts.append(f"activity windows {self._windows[0]} done, {self._windows[1]} left")
            rows, rate = self._rows_and_rate()
            parts.append(f"{rows:,} rows committed ({rate:,.0f}/s)")
            if self._note:
                parts.append(self._note)
            now = time.monotonic()
            parts.extend(f"export {job.label} {self._job_text(job, now)}" for job in self._jobs.values())
            if self._waiting is not None:
                parts.append(self._waiting_text(self._waiting, now))
            return "; ".join(parts)

    def renderable(self) -> RenderableType:
        """The live view (``rich``): what the run does, then one row per export job."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            now = time.monotonic()
            rows, rate = self._rows_and_rate()
            head = Table.grid(padding=(0, 2))
            head.add_row("phase", self._phase or "starting")
            if self._table:
                head.add_row("table", self._table)
            if self._windows is not None:
                head.add_row("activity windows", f"{self._windows[0]} done, {self._windows[1]} left")
            head.add_row("rows committed", f"{rows:,} ({rate:,.0f}/s)")
            if self._note:
                head.add_row("now", self._note)
            if self._waiting is not None:
                head.add_row("waiting", self._waiting_text(self._waiting, now).removeprefix("waiting "))
            parts: list[RenderableType] = [head]
            if self._jobs:
                jobs = Table(box=None, padding=(0, 2), show_edge=False)
                jobs.add_column("export job", no_wrap=True, overflow="ellipsis")  # a narrow terminal cuts this
                jobs.add_column("job id", no_wrap=True, min_width=8)
                jobs.add_column("state", no_wrap=True, min_width=34)
                for job in self._jobs.values():
                    short_id = (job.state.export_id or "-")[:8]
                    jobs.add_row(job.label, short_id, self._job_text(job, now))
                parts.append(jobs)
            return Group(Text(f"{self._stamp()} marketo-stream sync", style="bold"), *parts)

    def render_text(self, width: int = 100) -> str:
        """The live view as plain text (for a capture)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
        console.print(self.renderable())
        return console.export_text()

    # -- helpers ---------------------------------------------------------------------------------------------

    def _job_text(self, job: _Job, now: float) -> str:
        state, held = job.state, now - job.since
        if state.state == "queued":
            return f"queued behind {state.ahead} job(s) for {held:.0f}s"
        if state.state == "processing":
            return f"processing for {held:.0f}s"
        if state.state == "downloading":
            done = max(0, self._downloads() - job.downloaded_at_start) / MB
            size = f"/{state.file_size / MB:.1f}" if state.file_size else ""
            return f"downloading {done:.1f}{size} MB"
        if state.state == "completed":
            return f"completed, waiting for its download for {held:.0f}s"
        return f"{state.state} for {held:.0f}s"

    def _waiting_text(self, waiting: _Waiting, now: float) -> str:
        return f"waiting {max(0.0, waiting.until - now):.0f}s more ({waiting.why})"

    def _rows_and_rate(self) -> tuple[int, float]:
        """Rows committed, and their rate over the last few seconds (sampled at most once a second)."""
        rows, now = self._rows(), time.monotonic()
        sample = self._rate_sample
        if sample is None:
            self._rate_sample = (now, rows)
        elif now - sample[0] >= 1.0:
            self._rate = (rows - sample[1]) / (now - sample[0])
            self._rate_sample = (now, rows)
        return rows, self._rate

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()
        self._last_line = time.monotonic()

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self._started:7.1f}s]"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _WatchedClock:
    """A clock whose sleeps of a second or more show in the progress as waiting."""

    def __init__(self, inner: Clock, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    def now(self) -> datetime:
        return self._inner.now()

    def monotonic(self) -> float:
        return self._inner.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds < SHOWN_WAIT_SECONDS:
            self._inner.sleep(seconds)
            return
        with self._progress.waiting(seconds, self._progress.waiting_reason()):
            self._inner.sleep(seconds)


@dataclass
class SyncSummary:
    """What one run did, filled in by the sync as it goes; :meth:`as_json` is the data, :meth:`render` prints it
    and ``metrics.record_run`` exports it, so the three never disagree.

    ``records`` and ``tombstones`` are keyed by table (the topic is ``<prefix>.<table>``). The fields after
    ``outcome`` are figures the phases report for operating the sync (metrics); each stays empty/``None`` until
    a phase fills it and is then shown in the summary too.
    """

    started: datetime
    finished: datetime | None = None
    records: Counter[str] = field(default_factory=Counter)
    tombstones: Counter[str] = field(default_factory=Counter)
    api_calls: dict[str, int] = field(default_factory=dict)
    bulk_bytes: int = 0
    windows_done: int = 0
    windows_left: int = 0
    newest_activity: datetime | None = None
    oldest_activity_window: datetime | None = None
    rejected_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    outcome: str = "completed"
    bytes: Counter[str] = field(default_factory=Counter)
    """Serialized bytes (key + value) published per table."""
    api_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(endpoint, Marketo error code) -> calls answered with that code; part of ``api_calls``."""
    calls_today: int | None = None
    """Marketo API calls used today by every integration (``stats/usage.json``), as last read."""
    calls_budget: int | None = None
    export_mb_today: float | None = None
    """Bulk export MB used today by this API user's jobs, as last known."""
    export_mb_budget: float | None = None
    export_jobs: Counter[str] = field(default_factory=Counter)
    """Export jobs by the state they reached this run: created, completed, failed, cancelled, timed_out."""
    export_job_seconds: list[float] = field(default_factory=list)
    """Seconds from creating each completed job to its completion."""
    commit_seconds: list[float] = field(default_factory=list)
    """Seconds each Kafka transaction commit took."""
    server_time: datetime | None = None
    """Marketo's clock (the ``Date`` header) when the newest activities were read."""
    newest_by_activity_type: dict[str, datetime] = field(default_factory=dict)
    """Activity table -> newest committed ``activityDate``."""
    horizon: datetime | None = None
    """How far back history is to be extracted (``sync.start_date`` or Marketo's retention)."""
    calls_by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    """Table (or ``(metadata, other)``) -> ``calls``, ``export_jobs`` and ``bulk_bytes`` spent reading it."""

    def as_json(self) -> dict[str, Any]:
        """The summary as data (``sync --json``, ``--summary-json``): the figures :meth:`render` prints."""
        tables = sorted(set(self.records) | set(self.tombstones))
        return {
            "outcome": self.outcome,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "seconds": round((self.finished - self.started).total_seconds(), 1) if self.finished else None,
            "tables": {t: self._table(t) for t in tables},
            "records": sum(self.records.values()),
            "tombstones": sum(self.tombstones.values()),
            "api_calls": {"total": sum(self.api_calls.values()), "by_endpoint": dict(sorted(self.api_calls.items()))},
            "api_errors": [
                {"endpoint": where, "code": code, "calls": n} for (where, code), n in sorted(self.api_errors.items())
            ],
            "quota": {
                "calls_used": self.calls_today,
                "calls_budget": self.calls_budget,
                "export_mb_used": self.export_mb_today,
                "export_mb_budget": self.export_mb_budget,
            },
            "bulk_bytes": self.bulk_bytes,
            "export_jobs": dict(sorted(self.export_jobs.items())),
            "export_job_seconds": list(self.export_job_seconds),
            "commit_seconds": list(self.commit_seconds),
            "windows_done": self.windows_done,
            "windows_left": self.windows_left,
            "newest_activity": _iso(self.newest_activity),
            "oldest_activity_window": _iso(self.oldest_activity_window),
            "horizon": _iso(self.horizon),
            "server_time": _iso(self.server_time),
            "newest_by_activity_type": {t: d.isoformat() for t, d in sorted(self.newest_by_activity_type.items())},
            "freshness_lag_seconds": self.freshness_lag(),
            "rejected_rows": self.rejected_rows,
            "warnings": list(self.warnings),
            "calls_by_table": {t: dict(figures) for t, figures in sorted(self.calls_by_table.items())},
        }

    def freshness_lag(self) -> dict[str, float]:
        """Activity table -> Marketo's time (else the run's end) minus its newest committed ``activityDate``."""
        now = self.server_time or self.finished
        if now is None:
            return {}
        return {t: (now - d).total_seconds() for t, d in sorted(self.newest_by_activity_type.items())}

    def _table(self, table: str) -> dict[str, int]:
        return {"records": self.records[table], "tombstones": self.tombstones[table], "bytes": self.bytes[table]}

    def render(self) -> str:
        return render_summary(self.as_json())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def render_summary(data: Mapping[str, Any]) -> str:
    """The human summary of :meth:`SyncSummary.as_json`'s data (rendering the data, not the object, keeps the
    printed figures and the JSON ones the same)."""
    lines = [f"marketo-stream sync {data['outcome']}"]
    if data["seconds"] is not None:
        lines.append(f"  took {data['seconds']:.1f}s")
    tables: dict[str, dict[str, int]] = data["tables"]
    if tables:
        width = max(len(t) for t in tables)
        lines.append(f"  {'topic'.ljust(width)}  {'records':>10}  {'tombstones':>10}  {'bytes':>14}")
        for table, f in tables.items():
            lines.append(f"  {table.ljust(width)}  {f['records']:>10,}  {f['tombstones']:>10,}  {f['bytes']:>14,}")
        total_bytes = sum(f["bytes"] for f in tables.values())
        lines.append(f"  {'total'.ljust(width)}  {data['records']:>10,}  {data['tombstones']:>10,}  {total_bytes:>14,}")
    else:
        lines.append("  nothing new to publish")
    calls = data["api_calls"]
    lines.append(f"  Marketo API calls: {calls['total']:,}")
    for endpoint, count in sorted(calls["by_endpoint"].items(), key=lambda item: (-item[1], item[0]))[:12]:
        lines.append(f"    {count:>7,}  {endpoint}")
    lines.extend(f"    {e['calls']:>7,}  {e['endpoint']} answered {e['code']}" for e in data["api_errors"])
    quota = data["quota"]
    if quota["calls_used"] is not None:
        of = f" of {quota['calls_budget']:,}" if quota["calls_budget"] is not None else ""
        lines.append(f"  Marketo calls today (all integrations): {quota['calls_used']:,}{of}")
    lines.append(f"  bulk export downloaded: {data['bulk_bytes'] / 1_000_000:.2f} MB")
    if quota["export_mb_used"] is not None:
        of = f" of {quota['export_mb_budget']:g}" if quota["export_mb_budget"] is not None else ""
        lines.append(f"  bulk export MB today: {quota['export_mb_used']:g}{of}")
    if data["export_jobs"]:
        jobs = ", ".join(f"{n} {state}" for state, n in data["export_jobs"].items())
        lines.append(f"  export jobs: {jobs}")
    if waits := data["export_job_seconds"]:
        lines.append(
            f"  export job latency: {len(waits)} completed, {sum(waits) / len(waits):.1f}s on average, "
            f"{max(waits):.1f}s the longest"
        )
    if commits := data["commit_seconds"]:
        lines.append(
            f"  Kafka transactions: {len(commits)} committed in {sum(commits):.3f}s, {max(commits):.3f}s the longest"
        )
    lines.append(f"  activity windows: {data['windows_done']} done this run, {data['windows_left']} left")
    if data["newest_activity"]:
        lines.append(f"  newest activity reached: {data['newest_activity']}")
    if data["oldest_activity_window"]:
        lines.append(f"  history extracted back to: {data['oldest_activity_window']}")
    if data["horizon"]:
        lines.append(f"  history horizon: {data['horizon']}")
    if data["server_time"]:
        lines.append(f"  Marketo's time at the end: {data['server_time']}")
    lags = data["freshness_lag_seconds"]
    if lags:
        lines.append("  newest activity by table (freshness lag):")
        width = max(len(t) for t in lags)
        lines.extend(
            f"    {table.ljust(width)}  {data['newest_by_activity_type'][table]}  {lag:>12,.0f}s"
            for table, lag in lags.items()
        )
    if data["rejected_rows"]:
        lines.append(f"  rejected rows: {data['rejected_rows']} (in the dead-letter topic <prefix>._rejected)")
    lines.extend(f"  warning: {w}" for w in data["warnings"])
    lines.extend(_calls_by_table(data.get("calls_by_table") or {}))
    return "\n".join(lines)


def _calls_by_table(by_table: Mapping[str, Mapping[str, int]]) -> list[str]:
    """What each table cost in Marketo's scarce resources: calls (of the daily quota), export jobs (two run at once)
    and export MB (of the daily export quota), most calls first."""
    if not by_table:
        return []
    width = max(len(t) for t in by_table)
    lines = [f"  Marketo cost per table: {'table'.ljust(width)}  {'calls':>7}  {'jobs':>5}  {'export MB':>9}"]
    for table, figures in sorted(by_table.items(), key=lambda item: (-item[1].get("calls", 0), item[0])):
        mb = figures.get("bulk_bytes", 0) / 1_000_000
        lines.append(
            f"  {''.ljust(22)}{table.ljust(width)}  {figures.get('calls', 0):>7,}  {figures.get('export_jobs', 0):>5,}"
            f"  {mb:>9.2f}"
        )
    return lines
