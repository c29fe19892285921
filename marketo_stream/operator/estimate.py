"""What a resync will cost before it runs: API calls and bulk megabytes, and how much of today's quota is left.

From the state: how many days of activity windows are forgotten and the rows per day seen so far, the lead
windows back to the horizon, the rows an entity listing knows. From Marketo: the calls used today
(``stats/usage.json``) and the bytes per row of our recent exports (the bulk job list, last 7 days), which turn
rows into megabytes. These are estimates: a sync pass also re-reads what it reads every time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from marketo_stream.bulk.job import ExportStatus
from marketo_stream.bulk.repository import ExportRepository
from marketo_stream.bulk.request import ExportKind, ExportRequest
from marketo_stream.intervals import IntervalSet, utc
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.errors import MarketoError
from marketo_stream.operator.targets import TableKind, TargetTable
from marketo_stream.planner import window_size
from marketo_stream.settings import Settings
from marketo_stream.sync.context import ACTIVITY_RETENTION
from marketo_stream.sync_state import ACTIVITIES_KEY, ActivityState, EntityState, WindowsDone
from marketo_stream.tables import FIXED_TABLES, Reader

CALLS_PER_EXPORT = 5
"""create, enqueue, a status poll or two, the file."""
ROWS_PER_PAGE = 200
"""The smallest page size of the listings (Asset API); lead-database listings page by 300."""


@dataclass
class Estimate:
    api_calls: int = 0
    exports: int = 0
    rows: int | None = None
    bulk_mb: float | None = None
    """None when no recent export tells how large a row is."""
    calls_today: int | None = None
    basis: list[str] = field(default_factory=list)
    """How each figure was reached, for the operator to judge."""

    def describe(self, settings: Settings) -> list[str]:
        marketo = settings.marketo
        mb = f"{self.bulk_mb:,.2f} MB" if self.bulk_mb is not None else "unknown MB (no recent export to size rows by)"
        lines = [f"estimated cost: about {self.api_calls:,} API calls, {self.exports} bulk export(s), {mb}"]
        if self.calls_today is not None:
            budget = f" of a budget of {marketo.daily_call_budget:,}" if marketo.daily_call_budget else ""
            lines.append(f"  calls used today by all integrations: {self.calls_today:,}{budget}")
        lines.append(f"  daily bulk export quota: {marketo.export_daily_mb:,} MB")
        lines.extend(f"  {line}" for line in self.basis)
        return lines


def recent_exports(client: MarketoClient, kind: ExportKind, object_name: str | None = None) -> tuple[int, int]:
    """(bytes, rows) of our completed exports of this kind in the last 7 days; (0, 0) when Marketo will not say."""
    probe = ExportRequest(kind=kind, fields=(), filter={}, label="estimate", object_name=object_name)
    try:
        jobs = ExportRepository(client).list_jobs(probe, (ExportStatus.COMPLETED,))
    except MarketoError:
        return 0, 0
    sized = [(j.file_size, j.number_of_records) for j in jobs if j.file_size and j.number_of_records]
    return sum(size for size, _ in sized), sum(n for _, n in sized)


def _days(done: IntervalSet) -> float:
    return done.total().total_seconds() / 86400


def estimate_resync(
    settings: Settings, target: TargetTable, states: Mapping[str, Mapping[str, Any]], client: MarketoClient
) -> Estimate:
    estimate = Estimate()
    try:
        estimate.calls_today = client.usage_today()
    except MarketoError:
        estimate.calls_today = None
    now = client.server_now() or datetime.now(UTC)
    kind: ExportKind | None = None
    object_name: str | None = None
    sync = settings.sync
    if target.kind is TableKind.ACTIVITY:
        kind = "activities"
        activities = ActivityState.from_json(states.get(ACTIVITIES_KEY))
        days = _days(activities.done.get(target.type_id, IntervalSet()))
        size = window_size(
            activities.rows_per_day,
            target_rows=sync.target_rows_per_export,
            smallest=timedelta(days=1),
            largest=timedelta(days=sync.max_window_days),
        )
        estimate.exports = math.ceil(days / (size.total_seconds() / 86400)) if days else 0
        if activities.rows_per_day is not None:
            estimate.rows = int(activities.rows_per_day * days)
        estimate.basis.append(
            f"{days:.1f} days of windows to export again (every activity type together), "
            f"{activities.rows_per_day or 0:,.0f} rows per day so far"
        )
    elif target.kind is TableKind.LEAD:
        kind = "leads"
        start = max(utc(sync.start_date), now - ACTIVITY_RETENTION) if sync.start_date else now - ACTIVITY_RETENTION
        days = max(0.0, (now - start).total_seconds() / 86400)
        estimate.exports = math.ceil(days / sync.max_window_days)
        members = [spec.name for spec in FIXED_TABLES if spec.reader is Reader.PARENT_MEMBERS]
        known = sum(len(EntityState.load(states, name).rows) for name in members)
        estimate.api_calls += math.ceil(known / ROWS_PER_PAGE)
        estimate.basis.append(
            f"the lead load re-exports {days:.0f} days in {estimate.exports} window(s); the first-run entity "
            f"pass re-reads memberships ({known:,} program members known)"
        )
    else:
        rows = len(EntityState.load(states, target.name).rows)
        estimate.rows = rows
        if target.kind is TableKind.CUSTOM_OBJECT:
            kind, object_name = "custom_object", target.name.removeprefix("custom_object_")
            done = WindowsDone.load(states, target.name).done
            estimate.exports = math.ceil(_days(done) / sync.max_window_days)
            estimate.basis.append(f"{_days(done):.0f} days of updatedAt windows, {rows:,} rows known")
        else:
            estimate.api_calls += math.ceil(rows / ROWS_PER_PAGE) + 1
            estimate.basis.append(f"{rows:,} rows known, read in pages of {ROWS_PER_PAGE} or more")
    estimate.api_calls += estimate.exports * CALLS_PER_EXPORT
    if kind is not None:
        nbytes, rows = recent_exports(client, kind, object_name)
        if kind != "custom_object" and rows > (estimate.rows or 0):
            # a full load within the week says more than the recent windows' rate (the oldest are often empty)
            estimate.rows = rows
            estimate.basis.append(f"{rows:,} rows in our exports of this kind in the last 7 days")
        if rows and estimate.rows is not None:
            estimate.bulk_mb = nbytes / rows * estimate.rows / 1_000_000
            estimate.basis.append(f"{nbytes / rows:,.0f} bytes per row in our exports of the last 7 days")
    else:
        estimate.bulk_mb = 0.0
    return estimate
