"""What a sync phase is given and what it gives back.

A phase gets ``RunInputs`` (the clients, the writer, this run's tables, the time; nothing in it changes), its
own typed state (``sync_state``), and a ``Tally`` it counts into; it returns its new state. The runner folds
each tally into the run's summary, also when a phase stops midway, so a stopped run still reports what it
published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from marketo_stream.bulk.csvfile import Quarantine, QuarantinedRow
from marketo_stream.bulk.exporter import BulkExporter, JobState, OnJobState
from marketo_stream.intervals import parse_instant, utc
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings
from marketo_stream.sync.catalog import RunTables
from marketo_stream.sync.rejected import csv_line, rejected_record, row_text
from marketo_stream.sync.writer import Writer

K = TypeVar("K")

COUNTED_JOB_STATES = frozenset({"created", "completed", "failed", "cancelled", "timed_out"})
"""The export job states the summary (and ``marketo_stream_export_jobs_total``) counts."""

ACTIVITY_RETENTION = timedelta(days=760)
"""Marketo keeps most activities 25 months; older history cannot be extracted."""


@dataclass(frozen=True)
class RunInputs:
    settings: Settings
    client: MarketoClient
    exporter: BulkExporter
    writer: Writer
    tables: RunTables
    progress: Progress
    now: datetime

    @property
    def horizon(self) -> datetime:
        start = self.settings.sync.start_date
        oldest = self.now - ACTIVITY_RETENTION
        return oldest if start is None else max(utc(start), oldest)


@dataclass
class Tally:
    """What one phase did, for the run's summary."""

    writer: Writer
    """Where rejected rows go: the dead-letter topic, in the transaction of their window."""
    records: Counter[str] = field(default_factory=Counter)
    tombstones: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    rejected_rows: int = 0
    windows_done: int = 0
    windows_left: int | None = None
    newest_activity: datetime | None = None
    oldest_activity_window: datetime | None = None
    newest_by_table: dict[str, datetime] = field(default_factory=dict)
    """Activity table -> the newest ``activityDate`` it committed."""
    export_jobs: Counter[str] = field(default_factory=Counter)
    export_job_seconds: list[float] = field(default_factory=list)

    def saw_activity(self, table: str, date: Any) -> None:
        """An activity published outside the bulk exports (a Delete Lead read with the deleted leads): its date
        counts for the table's newest."""
        try:
            at = parse_instant(str(date)) if date else None
        except ValueError:
            return
        if at is not None:
            self.saw_activity_at(table, at)

    def saw_activity_at(self, table: str, at: datetime) -> None:
        """``saw_activity`` for a date already read."""
        if table not in self.newest_by_table or at > self.newest_by_table[table]:
            self.newest_by_table[table] = at

    def job(self, state: JobState) -> None:
        """Counts the export job states the summary reports, and each completed job's latency."""
        if state.state in COUNTED_JOB_STATES:
            self.export_jobs[state.state] += 1
        if state.state == "completed" and state.seconds is not None:
            self.export_job_seconds.append(state.seconds)

    def rejecter(self, table: str, export_id: str | None) -> Quarantine:
        """The callback taking an export file's malformed rows to the dead-letter topic, never dropped silently."""

        def take(row: QuarantinedRow) -> None:
            self._reject(table, csv_line(row.fields), row.reason, export_id=export_id, line=row.line)

        return take

    def reject(self, table: str, row: Mapping[str, Any], error: Exception) -> None:
        """A row whose value does not fit its column: to the dead-letter topic, counted in the summary."""
        self._reject(table, row_text(row), str(error))

    def _reject(
        self, table: str, raw: str, reason: str, *, export_id: str | None = None, line: int | None = None
    ) -> None:
        self.rejected_rows += 1
        self.writer.reject(*rejected_record(table, raw, reason, export_id=export_id, line=line))

    def add_to(self, summary: SyncSummary) -> None:
        summary.records.update(self.records)
        summary.tombstones.update(self.tombstones)
        summary.warnings.extend(self.warnings)
        summary.rejected_rows += self.rejected_rows
        summary.windows_done += self.windows_done
        if self.windows_left is not None:
            summary.windows_left = self.windows_left
        if self.newest_activity and (summary.newest_activity is None or self.newest_activity > summary.newest_activity):
            summary.newest_activity = self.newest_activity
        if self.oldest_activity_window is not None:
            summary.oldest_activity_window = self.oldest_activity_window
        for table, newest in self.newest_by_table.items():
            known = summary.newest_by_activity_type.get(table)
            summary.newest_by_activity_type[table] = newest if known is None else max(known, newest)
        summary.export_jobs.update(self.export_jobs)
        summary.export_job_seconds.extend(self.export_job_seconds)


def watch_jobs(inputs: RunInputs, tally: Tally) -> OnJobState:
    """The ``on_job_state`` of a phase's exports: the tally counts them, the progress view shows them."""

    def told(state: JobState) -> None:
        tally.job(state)
        inputs.progress.job(state)

    return told


def counted_since(now: Mapping[K, int], before: Mapping[K, int]) -> Counter[K]:
    """What each count grew by since ``before`` (the counts that did not grow left out)."""
    return Counter({key: n - before.get(key, 0) for key, n in now.items() if n > before.get(key, 0)})


@dataclass(frozen=True)
class CallsMark:
    """A client's running call counts at a pass's start: the pass's share is what they grew by since."""

    calls: Mapping[str, int]
    errors: Mapping[tuple[str, str], int]

    @classmethod
    def of(cls, client: MarketoClient) -> CallsMark:
        return cls(client.call_counts(), client.error_counts())

    def add_since(self, summary: SyncSummary, client: MarketoClient) -> None:
        """The pass's calls and error answers per endpoint, and Marketo's clock as last seen."""
        summary.api_calls = dict(counted_since(client.call_counts(), self.calls))
        summary.api_errors = counted_since(client.error_counts(), self.errors)
        summary.server_time = client.server_date()


def add_commits(summary: SyncSummary, writer: Writer, topic_prefix: str) -> None:
    """The writer's commit times, and its bytes per topic as bytes per table."""
    summary.commit_seconds.extend(writer.commit_seconds)
    head = f"{topic_prefix}."
    for topic, size in writer.committed_bytes.items():
        if topic.startswith(head) and size:
            summary.bytes[topic.removeprefix(head)] += size
