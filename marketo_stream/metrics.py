"""Prometheus metrics: every name declared here once, with its help text and labels, all ``marketo_stream_*``.

Why the figures come from the run's :class:`~marketo_stream.report.SyncSummary` instead of being counted where
things happen: the summary is what the sync already keeps, and metrics filled from it (``record_run``) can never
disagree with the summary a person reads or with ``--summary-json``. The price is that counters move at the end
of each pass, not during it; ``sync --follow`` serves them over HTTP (``serve``), a one-shot run writes them to
a file for node_exporter's textfile collector (``write_textfile``).

One gauge is live instead, read from the progress view when scraped (``follow_progress``):
``last_progress_timestamp_seconds``, when the run last had news (a milestone, an export job's poll, rows
committed, a wait begun). A first sync can take hours, and a liveness check that looked only at the end of the
last pass would restart it in the middle; news stops when the process hangs, while a pass that waits on Marketo
still has some every poll.

The freshness lag is kept per activity table across passes: a table with no new activity in a pass keeps its
newest date and its lag grows with Marketo's clock (a one-shot run's textfile shows the tables that run saw).

The README's metrics table is generated from :func:`describe` (a test keeps them the same).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream import __version__
from marketo_stream.report import SyncSummary

PREFIX = "marketo_stream_"

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: they double what is exported and nothing here needs them

COMMIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""A transaction commit takes milliseconds on a healthy cluster and seconds when a broker struggles."""
EXPORT_JOB_BUCKETS = (60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0)
"""Marketo queues and processes export jobs in minutes to hours (our timeout is 3 hours by default)."""


@dataclass(frozen=True)
class MetricInfo:
    name: str
    """As exposed: counters end in ``_total``, histograms add ``_bucket``, ``_sum`` and ``_count``."""
    kind: str
    labels: tuple[str, ...]
    help: str


class Metrics:
    """The metrics of one process (or of one test: each instance has its own registry)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.declared: list[MetricInfo] = []
        counter, gauge = self._counter, self._gauge
        self.records = counter("records", "Records published, by topic", "topic")
        self.tombstones = counter("tombstones", "Tombstones (deletes) published, by topic", "topic")
        self.published_bytes = counter(
            "published_bytes", "Serialized bytes (key and value) published, by topic", "topic"
        )
        self.api_calls = counter(
            "api_calls",
            "Marketo API calls, by endpoint and Marketo's answer (ok, or its error code)",
            "endpoint",
            "code",
        )
        self.daily_api_calls = gauge(
            "daily_api_calls",
            "Marketo API calls today, all integrations: state=used, or left of the daily budget",
            "state",
        )
        self.daily_export_megabytes = gauge(
            "daily_export_megabytes",
            "Bulk export megabytes today: state=used, or left of the daily export quota",
            "state",
        )
        self.bulk_downloaded_bytes = counter("bulk_downloaded_bytes", "Bytes of bulk export files downloaded")
        self.export_jobs = counter(
            "export_jobs",
            "Bulk export jobs by the state reached (created, completed, failed, cancelled, timed_out)",
            "state",
        )
        self.export_job_seconds = self._histogram(
            "export_job_duration_seconds",
            "Seconds from creating a bulk export job to its completion",
            EXPORT_JOB_BUCKETS,
        )
        self.commit_seconds = self._histogram(
            "transaction_commit_seconds", "Seconds a Kafka transaction commit took", COMMIT_BUCKETS
        )
        self.freshness_lag = gauge(
            "freshness_lag_seconds",
            "Marketo's server time (else the run's end) minus the newest committed activityDate, by activity table",
            "table",
        )
        self.backfill_oldest = gauge(
            "backfill_oldest_reached_timestamp_seconds",
            "Oldest activity time extracted so far (Unix time); the backfill is done when it reaches the horizon",
        )
        self.backfill_horizon = gauge(
            "backfill_horizon_timestamp_seconds",
            "How far back history is extracted (Unix time): sync.start_date or Marketo's retention",
        )
        self.windows_left = gauge("activity_windows_left", "Activity export windows still to do")
        self.windows_done = counter("activity_windows_done", "Activity export windows done")
        self.rejected_rows = counter(
            "rejected_rows", "Export rows that could not be published and went to the dead-letter topic"
        )
        self.runs = counter("runs", "Sync passes by outcome (completed, stopped, failed)", "outcome")
        self.tail_passes = counter(
            "tail_passes",
            "Streaming tail passes (sync --follow between bulk passes) that ended; their records, calls "
            "and freshness count in the other metrics",
        )
        self.last_progress = gauge(
            "last_progress_timestamp_seconds",
            "When the sync last had news (a milestone, an export job's poll, rows committed, a wait begun; Unix "
            "time): live during a pass",
        )
        self.last_run = gauge("last_run_timestamp_seconds", "When the last pass ended (Unix time)")
        self.last_success = gauge("last_success_timestamp_seconds", "When the last successful pass ended (Unix time)")
        self.last_duration = gauge("last_run_duration_seconds", "How long the last pass took, in seconds")
        self.info = gauge("build_info", "Always 1; the version of marketo-stream", "version")
        self.info.labels(version=__version__).set(1)
        self._newest: dict[str, datetime] = {}

    def _declared(self, name: str, kind: str, labels: tuple[str, ...], help_text: str) -> str:
        exposed = f"{PREFIX}{name}_total" if kind == "counter" else f"{PREFIX}{name}"
        self.declared.append(MetricInfo(exposed, kind, labels, help_text))
        return f"{PREFIX}{name}"

    def _counter(self, name: str, help_text: str, *labels: str) -> Counter:
        return Counter(self._declared(name, "counter", labels, help_text), help_text, labels, registry=self.registry)

    def _gauge(self, name: str, help_text: str, *labels: str) -> Gauge:
        return Gauge(self._declared(name, "gauge", labels, help_text), help_text, labels, registry=self.registry)

    def _histogram(self, name: str, help_text: str, buckets: tuple[float, ...]) -> Histogram:
        full = self._declared(name, "histogram", (), help_text)
        return Histogram(full, help_text, buckets=buckets, registry=self.registry)

    def record_run(self, summary: SyncSummary, topic_prefix: str) -> None:
        """Add one pass's figures: counters grow by the pass's counts, gauges take its values."""
        self._record_figures(summary, topic_prefix)
        if summary.oldest_activity_window is not None:
            self.backfill_oldest.set(summary.oldest_activity_window.timestamp())
        if summary.horizon is not None:
            self.backfill_horizon.set(summary.horizon.timestamp())
        self.windows_left.set(summary.windows_left)
        self.windows_done.inc(summary.windows_done)
        self.runs.labels(outcome=summary.outcome).inc()
        finished = summary.finished or datetime.now(summary.started.tzinfo)
        self.last_run.set(finished.timestamp())
        self.last_duration.set((finished - summary.started).total_seconds())
        if summary.outcome == "completed":
            self.last_success.set(finished.timestamp())

    def record_tail_pass(self, figures: SyncSummary, topic_prefix: str) -> None:
        """Add one tail pass's figures (``sync --follow`` between bulk passes): its records, calls, commits and the
        freshness of what it committed. The pass counts are the bulk passes' alone (a tail pass is no run)."""
        self._record_figures(figures, topic_prefix)
        self.tail_passes.inc()

    def _record_figures(self, summary: SyncSummary, topic_prefix: str) -> None:
        for table, n in summary.records.items():
            self.records.labels(topic=f"{topic_prefix}.{table}").inc(n)
        for table, n in summary.tombstones.items():
            self.tombstones.labels(topic=f"{topic_prefix}.{table}").inc(n)
        for table, n in summary.bytes.items():
            self.published_bytes.labels(topic=f"{topic_prefix}.{table}").inc(n)
        for endpoint, calls in summary.api_calls.items():
            errors = {code: n for (where, code), n in summary.api_errors.items() if where == endpoint}
            for code, n in errors.items():
                self.api_calls.labels(endpoint=endpoint, code=code).inc(n)
            self.api_calls.labels(endpoint=endpoint, code="ok").inc(max(0, calls - sum(errors.values())))
        _used_and_left(self.daily_api_calls, summary.calls_today, summary.calls_budget)
        _used_and_left(self.daily_export_megabytes, summary.export_mb_today, summary.export_mb_budget)
        self.bulk_downloaded_bytes.inc(summary.bulk_bytes)
        for state, n in summary.export_jobs.items():
            self.export_jobs.labels(state=state).inc(n)
        for seconds in summary.export_job_seconds:
            self.export_job_seconds.observe(seconds)
        for seconds in summary.commit_seconds:
            self.commit_seconds.observe(seconds)
        for table, newest in summary.newest_by_activity_type.items():
            known = self._newest.get(table)
            self._newest[table] = newest if known is None else max(known, newest)
        now = summary.server_time or summary.finished
        if now is not None:
            for table, newest in self._newest.items():
                self.freshness_lag.labels(table=table).set((now - newest).total_seconds())
        self.rejected_rows.inc(summary.rejected_rows)

    def follow_progress(self, news: Callable[[], float]) -> None:
        """``last_progress_timestamp_seconds`` reads ``news()`` (Unix time of the run's latest news) when scraped."""
        self.last_progress.set_function(news)

    def record_failure(self) -> None:
        """A pass that ended in an error (no summary): counted, and the time of the last pass moves on."""
        self.runs.labels(outcome="failed").inc()
        self.last_run.set(time.time())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def write_textfile(self, path: Path) -> None:
        """Write the metrics for node_exporter's textfile collector: a temporary file in the same directory,
        then a rename, so that the collector never reads half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(self.exposition())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def serve(self, port: int, address: str = "0.0.0.0") -> int:
        """Serve ``/metrics`` from a daemon thread; returns the port (useful when asked for 0)."""
        server, _ = start_http_server(port, address, registry=self.registry)
        return int(server.server_address[1])


def _used_and_left(gauge: Gauge, used: float | None, budget: float | None) -> None:
    if used is None:
        return
    gauge.labels(state="used").set(used)
    if budget is not None:
        gauge.labels(state="left").set(max(0.0, budget - used))


METRICS = Metrics()
"""The process's metrics."""


def describe() -> list[MetricInfo]:
    """Every metric of this module: exposed name, type, labels, help."""
    return sorted(Metrics().declared, key=lambda m: m.name)


def markdown_table() -> str:
    """The README's table of metrics."""
    rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"]
    for m in describe():
        labels = ", ".join(f"`{label}`" for label in m.labels) or "—"
        rows.append(f"| `{m.name}` | {m.kind} | {labels} | {m.help} |")
    return "\n".join(rows)


def stale(exposition: str, now: float, max_age_seconds: float) -> str | None:
    """Why a process whose ``/metrics`` say this is not healthy, or ``None``: no pass ended and the running pass had
    no news (``last_progress_timestamp_seconds``) for longer than ``max_age_seconds``."""
    latest = {f"{PREFIX}last_run_timestamp_seconds": 0.0, f"{PREFIX}last_progress_timestamp_seconds": 0.0}
    for family in text_string_to_metric_families(exposition):
        if family.name in latest:
            latest[family.name] = max((s.value for s in family.samples), default=0.0)
    last = max(latest.values())
    if last and now - last > max_age_seconds:
        return f"no sync news in the last {max_age_seconds:g}s (the last {now - last:.0f}s ago)"
    return None


if __name__ == "__main__":  # python -m marketo_stream.metrics: the README's table
    print(markdown_table())
