"""Activities through Bulk Extract, priority-first, resumable mid-file, never published twice.

One export per window carries every extracted activity type; rows are routed to ``activity_<name>`` by
type. Windows finish out of order, so each type's state is a set of finished intervals. The export id is
committed to state as soon as Marketo creates the job, and the number of rows already committed as the
file is read, so a restart resumes the same job and skips exactly the rows already published. A lookback
overlap re-reads the newest hours for late-committed activities; GUIDs published within it are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from marketo_stream.bulk.csvfile import read_rows
from marketo_stream.bulk.exporter import CompletedExport
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant
from marketo_stream.planner import plan_windows, window_size
from marketo_stream.schema import ValueConversionError
from marketo_stream.sync.context import RunContext
from marketo_stream.sync_state import RECENT_KEY, ExportProgress

ONE_SECOND = timedelta(seconds=1)


def window_label(window: Interval) -> str:
    return f"activities:{window}"


def export_request(window: Interval, type_ids: Iterable[int], label: str | None = None) -> ExportRequest:
    """Marketo's ``createdAt`` filter is inclusive at both ends: ``[start, end - 1 s]``."""
    return ExportRequest(
        kind="activities",
        fields=(),
        filter={
            "createdAt": {"startAt": format_instant(window.start), "endAt": format_instant(window.end - ONE_SECOND)},
            "activityTypeIds": sorted(type_ids),
        },
        label=label or window_label(window),
    )


def request_window(request: ExportRequest) -> Interval:
    found = request.window()
    if found is None:
        raise ValueError(f"export {request.label} has no date window")
    _, start, end = found
    return Interval(start, end + ONE_SECOND)


def request_types(request: ExportRequest) -> tuple[int, ...]:
    return tuple(int(t) for t in request.filter.get("activityTypeIds", ()))


class ActivityPhase:
    def __init__(self, ctx: RunContext, *, collect_fresh: bool, collect_history: bool) -> None:
        """``collect_*``: whether activities of the priority (fresh) and backfill (history) windows feed effects;
        history only on a first run, where it dates list memberships, never later, where it is stale."""
        self.ctx = ctx
        self.collect_fresh = collect_fresh
        self.collect_history = collect_history
        self.type_ids = ctx.tables.extracted_type_ids()
        sync = ctx.settings.sync
        self.lookback = timedelta(hours=sync.lookback_hours)
        self.windows_done = 0

    # -- planning ----------------------------------------------------------------------------------------------

    def plan(self) -> tuple[list[ExportRequest], list[ExportRequest]]:
        """(priority, backfill) requests; in-flight exports from an earlier run come first, with their ids."""
        ctx, sync = self.ctx, self.ctx.settings.sync
        resumed = [export_request(p.window, p.type_ids, label) for label, p in sorted(ctx.activities.exports.items())]
        done = ctx.activities.done_for(self.type_ids)
        for progress in ctx.activities.exports.values():
            done.add(progress.window)  # planned already: resumed above
        size = window_size(
            ctx.activities.rows_per_day,
            target_rows=sync.target_rows_per_export,
            smallest=timedelta(days=1),
            largest=timedelta(days=sync.max_window_days),
        )
        plan = plan_windows(
            done,
            now=ctx.now,
            horizon=ctx.horizon,
            priority_span=timedelta(days=sync.priority_days),
            lookback=self.lookback,
            window=size,
        )
        priority = resumed + [export_request(w, self.type_ids) for w in plan.priority]
        backfill = [export_request(w, self.type_ids) for w in plan.backfill]
        return priority, backfill

    # -- running -----------------------------------------------------------------------------------------------

    def run(self) -> None:
        if not self.type_ids:
            return
        priority, backfill = self.plan()
        self.ctx.summary.windows_left = len(priority) + len(backfill)
        self.ctx.progress.step(
            f"activities: {len(priority)} priority window(s), then {len(backfill)} backfill window(s), "
            f"{len(self.type_ids)} activity types"
        )
        self._run_requests(priority, collect=self.collect_fresh)
        self._run_requests(backfill, collect=self.collect_history)

    def _run_requests(self, requests: list[ExportRequest], *, collect: bool) -> None:
        if not requests:
            return
        known = {label: p.export_id for label, p in self.ctx.activities.exports.items() if p.export_id is not None}
        completed = self.ctx.exporter.run(requests, known_exports=known, on_export_id=self._on_export_id)
        for export in completed:
            self._publish(export, collect=collect)

    def _on_export_id(self, request: ExportRequest, export_id: str) -> None:
        """Committed at once, so that a crash from here on resumes this job instead of paying for a new one."""
        exports = self.ctx.activities.exports
        progress = exports.get(request.label)
        if progress is None:
            progress = ExportProgress(request_window(request), request_types(request))
            exports[request.label] = progress
        if progress.export_id != export_id:
            progress.export_id, progress.rows_committed = export_id, 0
        self.ctx.writer.commit({"activities": self.ctx.activities.to_json()})

    def _publish(self, export: CompletedExport, *, collect: bool) -> None:
        ctx = self.ctx
        request = export.request
        window = request_window(request)
        types = request_types(request)
        progress = ctx.activities.exports.setdefault(request.label, ExportProgress(window, types, export.export_id))
        skip = progress.rows_committed
        recent_from = int((window.end - self.lookback).timestamp())
        recent_rows: dict[str, int] = {}
        newest: datetime | None = None
        published = skipped = 0
        writer, by_type, seen = ctx.writer, ctx.tables.activity_by_type, ctx.recent.guids
        for index, row in enumerate(read_rows(export.path, quarantine=ctx.quarantine)):
            guid = str(row.get("marketoGUID") or "")
            at = _epoch(row.get("activityDate"))
            if at is not None and at >= recent_from:
                recent_rows[guid] = at
            if index < skip:
                continue
            progress.rows_committed = index + 1
            if guid in seen:
                skipped += 1
            else:
                if collect:
                    ctx.effects.absorb(row)
                table = by_type.get(_int(row.get("activityTypeId")))
                if table is not None:
                    try:
                        writer.upsert_row(table, row)
                    except ValueConversionError as exc:
                        ctx.reject(table.name, row, exc)
                    else:
                        ctx.summary.records[table.name] += 1
                        published += 1
                if at is not None and (newest is None or at > newest.timestamp()):
                    newest = datetime.fromtimestamp(at, tz=window.start.tzinfo)
            if writer.checkpoint(ctx.activity_states):
                ctx.progress.update(f"activities {window}: {index + 1:,} rows")
        self._finish(request.label, window, types, recent_rows, export.number_of_records)
        ctx.progress.step(
            f"activities {window}: {published:,} published, {skipped:,} already published "
            f"({export.file_size / 1_000_000:.2f} MB)"
        )
        export.path.unlink(missing_ok=True)
        if newest and (ctx.summary.newest_activity is None or newest > ctx.summary.newest_activity):
            ctx.summary.newest_activity = newest

    def _finish(
        self, label: str, window: Interval, types: tuple[int, ...], recent_rows: dict[str, int], rows: int
    ) -> None:
        ctx, state = self.ctx, self.ctx.activities
        for type_id in types:
            state.done.setdefault(type_id, IntervalSet()).add(window)
        state.exports.pop(label, None)
        done_all = state.done_for(list(types))
        for other, progress in list(state.exports.items()):
            if done_all.covers(progress.window):
                state.exports.pop(other)  # the parent of split parts that are now all done
        days = window.length.total_seconds() / 86400
        if days > 0:
            rate = rows / days
            state.rows_per_day = rate if state.rows_per_day is None else 0.5 * state.rows_per_day + 0.5 * rate
        latest = done_all.latest_end()
        if latest is not None:
            ctx.recent.guids.update(recent_rows)
            ctx.recent.prune(latest - self.lookback)
        self.windows_done += 1
        ctx.summary.windows_done += 1
        ctx.summary.windows_left = max(0, ctx.summary.windows_left - 1)
        oldest = done_all.earliest_start()
        if oldest is not None:
            ctx.summary.oldest_activity_window = oldest
        ctx.writer.commit({**ctx.activity_states(), RECENT_KEY: ctx.recent.to_json()})


def _int(value: Any) -> int:
    """An activity type id; anything unreadable maps to -1, which no table has."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _epoch(value: Any) -> int | None:
    """Seconds since the epoch of an activity date; the common ``…Z`` form takes the fast path."""
    if not value:
        return None
    text = str(value)
    try:
        return (
            int(datetime.fromisoformat(text).timestamp()) if text[-1] == "Z" else int(parse_instant(text).timestamp())
        )
    except ValueError:
        return None
