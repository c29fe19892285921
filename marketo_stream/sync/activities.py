"""Activities through Bulk Extract, priority-first, resumable mid-file, never published twice.

One export per window carries every extracted activity type; rows are routed to ``activity_<name>`` by
type. Windows finish out of order, so each type's state is a set of finished intervals. The export id is
committed to state as soon as Marketo creates the job, and the number of rows already committed as the
file is read, so a restart resumes the same job and skips exactly the rows already published. A lookback
overlap re-reads the newest hours for late-committed activities; GUIDs published within it are skipped.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from marketo_stream.activity_effects import EFFECT_TYPES, LIST_TYPES, Effects
from marketo_stream.bulk.csvfile import QuarantinedRow
from marketo_stream.bulk.exporter import CompletedExport
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant
from marketo_stream.planner import plan_windows, reads_on_from_latest, window_size
from marketo_stream.schema import ValueConversionError
from marketo_stream.sync.context import RunInputs, Tally, watch_jobs
from marketo_stream.sync.published import PublishedTable
from marketo_stream.sync.row_workers import InProcessRows, ParallelRows, Publish, RowWorkers, default_workers
from marketo_stream.sync.windows import ActivityBounds, activity_bounds, request_window, window_request
from marketo_stream.sync_state import ActivityState, ExportProgress, RecentActivities, StateDocuments, effects_documents


def window_label(window: Interval) -> str:
    return f"activities:{window}"


def export_request(window: Interval, type_ids: Iterable[int], label: str | None = None) -> ExportRequest:
    """One export carries every extracted type of the window."""
    extra = {"activityTypeIds": sorted(type_ids)}
    return window_request("activities", window, label=label or window_label(window), extra=extra)


def request_types(request: ExportRequest) -> tuple[int, ...]:
    return tuple(int(t) for t in request.filter.get("activityTypeIds", ()))


@dataclass(frozen=True)
class ActivityResult:
    state: ActivityState
    recent: RecentActivities
    effects: Effects
    """What this run's activities mean for leads and memberships, added to the effects given."""


def sync_activities(
    inputs: RunInputs,
    state: ActivityState,
    recent: RecentActivities,
    effects: Effects,
    tally: Tally,
    *,
    first_run: bool,
) -> ActivityResult:
    """Activities of the priority windows, then history; on a first run the history's effects are collected too
    (they date list memberships). The effects are committed with the activities that produced them, on a first run
    too: the windows done are not read again, so a run resumed after a stop finds their effects only in state."""
    with row_source(inputs) as rows, inputs.progress.table("activities"):  # one export carries every activity table
        phase = ActivityPhase(
            inputs,
            state,
            recent,
            effects,
            tally,
            collect_fresh=True,
            collect_history=first_run,
            rows=rows,
        )
        phase.run()
    return ActivityResult(phase.state, phase.recent, phase.effects)


def row_source(inputs: RunInputs) -> RowWorkers:
    """Where bulk rows are read, converted and encoded: worker processes (``sync.row_workers``), or here."""
    workers = inputs.settings.sync.row_workers or default_workers()
    return RowWorkers(inputs.writer, inputs.tables.activity_by_type, workers)


class ActivityPhase:
    def __init__(
        self,
        inputs: RunInputs,
        state: ActivityState,
        recent: RecentActivities,
        effects: Effects,
        tally: Tally,
        *,
        collect_fresh: bool,
        collect_history: bool,
        rows: RowWorkers | None = None,
    ) -> None:
        """``collect_*``: whether activities of the priority (fresh) and backfill (history) windows feed effects;
        history only on a first run, and only its list changes, which date list memberships (the rest is stale,
        and a first run's history can name every lead)."""
        self.inputs = inputs
        self.state = state
        self.recent = recent
        self.effects = effects
        self.tally = tally
        self.collect_fresh = collect_fresh
        self.collect_history = collect_history
        self.type_ids = inputs.tables.extracted_type_ids()
        self.lookback = timedelta(hours=inputs.settings.sync.lookback_hours)
        self.windows_done = 0
        self.rows = rows or RowWorkers(inputs.writer, inputs.tables.activity_by_type, 1)
        """Where the rows of an export file are read, converted and encoded (``row_workers``)."""

    def documents(self) -> StateDocuments:
        """The activity state, as a checkpoint inside a window commits it. The effects are committed when a window
        is done (``_finish``): a stop inside a window reads its rows again, and the rows already published are read
        for their effects again too, so only finished windows need theirs kept (and a first run's history, which
        can hold millions of list changes, is not written out at every checkpoint)."""
        return self.state.documents()

    # -- planning ----------------------------------------------------------------------------------------------

    def plan(self) -> tuple[list[ExportRequest], list[ExportRequest]]:
        """(priority, backfill) requests; in-flight exports from an earlier run come first, with their ids."""
        inputs, sync, state = self.inputs, self.inputs.settings.sync, self.state
        resumed = [export_request(p.window, p.type_ids, label) for label, p in sorted(state.exports.items())]
        done = state.done_for(self.type_ids)
        for progress in state.exports.values():
            done.add(progress.window)  # planned already: resumed above
        bounds = self._known_empty(done)
        size = window_size(
            state.rows_per_day,
            target_rows=sync.target_rows_per_export,
            smallest=timedelta(days=1),
            largest=timedelta(days=sync.max_window_days),
        )
        plan = plan_windows(
            done,
            now=inputs.now,
            horizon=inputs.horizon,
            priority_span=timedelta(days=sync.priority_days),
            lookback=self.lookback,
            window=size,
            refresh_from_latest=not bounds.quiet and reads_on_from_latest(done, inputs.horizon, self.collect_history),
        )
        resumed_by_label = {request.label: request for request in resumed}
        priority = list(resumed)
        for window in plan.priority:
            request = export_request(window, self.type_ids)
            earlier = resumed_by_label.get(request.label)
            if earlier is None:
                priority.append(request)
            elif earlier.filter != request.filter:  # the same window, other types: a request of its own
                priority.append(export_request(window, self.type_ids, f"{request.label} (types now)"))
            # else: the export resumed above is this very request (a clock that has not moved since the stop)
        backfill = [export_request(w, self.type_ids) for w in plan.backfill]
        return priority, backfill

    def _known_empty(self, done: IntervalSet) -> ActivityBounds:
        """Spans a few REST calls show to hold nothing new are done without an export job (``sync/windows.py``)."""
        inputs, state = self.inputs, self.state
        bounds = activity_bounds(
            inputs.client, done, self.type_ids, now=inputs.now, horizon=inputs.horizon, published=self.recent.guids
        )
        for span in bounds.empty:
            done.add(span)
            for type_id in self.type_ids:
                state.done.setdefault(type_id, IntervalSet()).add(span)
        if state.rows_per_day is None and bounds.rows_per_day:
            state.rows_per_day = bounds.rows_per_day
        if bounds.empty:
            inputs.progress.step(f"activities: {', '.join(map(str, bounds.empty))} hold nothing new: no export")
            inputs.writer.commit(state.documents())
        return bounds

    # -- running -----------------------------------------------------------------------------------------------

    def run(self) -> None:
        with self.inputs.client.charged_to("activities"):
            self._run()

    def _run(self) -> None:
        if not self.type_ids:
            return
        priority, backfill = self.plan()
        self.tally.windows_left = len(priority) + len(backfill)
        self.tally.oldest_activity_window = self.state.done_for(self.type_ids).earliest_start()
        self.inputs.progress.windows(self.tally.windows_done, self.tally.windows_left)
        self.inputs.progress.step(
            f"activities: {len(priority)} priority window(s), then {len(backfill)} backfill window(s), "
            f"{len(self.type_ids)} activity types"
        )
        self._run_requests(priority, collect=EFFECT_TYPES if self.collect_fresh else frozenset())
        self._run_requests(backfill, collect=LIST_TYPES if self.collect_history else frozenset())

    def _run_requests(self, requests: list[ExportRequest], *, collect: frozenset[int]) -> None:
        if not requests:
            return
        known = {label: p.export_id for label, p in self.state.exports.items() if p.export_id is not None}
        completed = self.inputs.exporter.run(
            requests,
            known_exports=known,
            on_export_id=self._on_export_id,
            on_job_state=watch_jobs(self.inputs, self.tally),
        )
        for export in completed:
            self._publish(export, collect=collect)

    def _on_export_id(self, request: ExportRequest, export_id: str) -> None:
        """Committed at once, so that a crash from here on resumes this job instead of paying for a new one."""
        exports = self.state.exports
        progress = exports.get(request.label)
        if progress is None:
            progress = ExportProgress(request_window(request), request_types(request))
            exports[request.label] = progress
        if progress.export_id != export_id:
            progress.export_id, progress.rows_committed = export_id, 0
        self.inputs.writer.commit(self.state.documents())

    def _publish(self, export: CompletedExport, *, collect: frozenset[int]) -> None:
        """Publishes one export file, resuming after the rows already committed. The loop runs once per activity:
        rows stay lists, each type's route and converter are looked up once per file, and dates are compared as
        text in their usual ``…Z`` form, parsed only where the lookback or the newest activity needs them."""
        inputs, tally = self.inputs, self.tally
        request = export.request
        window = request_window(request)
        types = request_types(request)
        progress = self.state.exports.setdefault(request.label, ExportProgress(window, types, export.export_id))
        skip = progress.rows_committed
        recent_from = int((window.end - self.lookback).timestamp())
        recent_text = format_instant(datetime.fromtimestamp(recent_from, UTC))
        recent_rows: dict[str, int] = {}
        skipped = 0
        writer, seen, effects, states = inputs.writer, self.recent.guids, self.effects, self.documents
        reject = tally.rejecter("activity", export.export_id)

        def rejected(row: QuarantinedRow) -> None:
            """To the dead-letter topic once: a row a run already rejected within the lookback (whose window a
            later run reads again) is kept with the published ones in ``recent`` and not rejected twice, and one
            before the rows a stopped run committed was committed with them."""
            guid, at = None, None
            if row.fields is not None:
                try:
                    guid, date, _ = columns.standard(list(row.fields))
                except IndexError:
                    guid = None
                else:
                    at = _epoch(None if date == "null" else date)
            if guid and guid in seen:
                return
            if index + 1 >= skip:
                reject(row)
            if guid and at is not None and at >= recent_from:
                recent_rows[guid] = at

        rows = self.rows.rows(export, rejected, collect)
        columns = _Columns(rows.header)
        routes: dict[str, _Route] = {}
        index = -1  # the last row read
        try:
            for index, values in enumerate(rows):
                guid, date, type_text = columns.standard(values)
                if guid is None or guid == "null":
                    guid = ""
                if date.__class__ is str and len(date) == 20 and date[19] == "Z":
                    fixed = True
                    if date >= recent_text and (at := _epoch(date)) is not None:
                        recent_rows[guid] = at
                else:
                    fixed = False
                    at = _epoch(None if date == "null" else date)
                    if at is not None and at >= recent_from:
                        recent_rows[guid] = at
                route = routes.get(type_text) or routes.setdefault(type_text, self._route(type_text, rows))
                if route.type_id in collect and guid not in seen:  # rows already published too: see ``documents``
                    lead, primary, attributes = columns.effects(values)
                    effects.absorb_activity(route.type_id, lead, primary, date, guid, attributes)
                if index < skip:
                    continue
                progress.rows_committed = index + 1
                if guid in seen:
                    skipped += 1
                    continue
                table, publish = route.table, route.publish
                if table is not None and publish is not None:
                    try:
                        full = publish(values)
                    except ValueConversionError as exc:
                        tally.reject(table.name, rows.row(values), exc)
                    else:
                        route.published += 1
                        if full and writer.checkpoint(states):
                            inputs.progress.update(f"activities {window}: {index + 1:,} rows")
                if not fixed:
                    if at is not None and (route.newest_at is None or at > route.newest_at):
                        route.newest_at = at
                elif date > route.newest_text:
                    try:
                        datetime.fromisoformat(date)  # only a valid instant counts
                    except ValueError:
                        pass
                    else:
                        route.newest_text = date
        finally:
            for route in routes.values():
                if route.table is not None and route.published:
                    tally.records[route.table.name] += route.published
        self._finish(request.label, window, types, recent_rows, export.number_of_records)
        published = sum(route.published for route in routes.values())
        inputs.progress.step(
            f"activities {window}: {published:,} published, {skipped:,} already published "
            f"({export.file_size / 1_000_000:.2f} MB)"
        )
        export.path.unlink(missing_ok=True)
        for route in routes.values():
            newest = route.newest(window.start.tzinfo)
            if newest is None:
                continue
            if tally.newest_activity is None or newest > tally.newest_activity:
                tally.newest_activity = newest
            if route.table is not None and route.published:
                known = tally.newest_by_table.get(route.table.name)
                tally.newest_by_table[route.table.name] = newest if known is None else max(known, newest)

    def _route(self, type_text: str, rows: InProcessRows | ParallelRows) -> _Route:
        type_id = _int(type_text)
        table = self.inputs.tables.activity_by_type.get(type_id)
        return _Route(type_id, table, None if table is None else rows.publisher(table))

    def _finish(
        self, label: str, window: Interval, types: tuple[int, ...], recent_rows: dict[str, int], rows: int
    ) -> None:
        tally, state = self.tally, self.state
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
            self.recent.guids.update(recent_rows)
            self.recent.prune(latest - self.lookback)
        self.windows_done += 1
        tally.windows_done += 1
        tally.windows_left = max(0, (tally.windows_left or 0) - 1)
        self.inputs.progress.windows(tally.windows_done, tally.windows_left)
        oldest = done_all.earliest_start()
        if oldest is not None:
            tally.oldest_activity_window = oldest
        self.inputs.writer.commit({**self.documents(), **effects_documents(self.effects), **self.recent.documents()})


@dataclass(slots=True)
class _Route:
    """Where rows of one activity type go: its id, its table (None: not published) and what publishes a row of the
    file to that table, how many of its rows were published, and the newest of their dates (as ``…Z`` text, or
    parsed when in another form)."""

    type_id: int
    table: PublishedTable | None
    publish: Publish | None
    published: int = 0
    newest_text: str = ""
    newest_at: int | None = None

    def newest(self, zone: tzinfo | None) -> datetime | None:
        latest = max((at for at in (_epoch(self.newest_text or None), self.newest_at) if at is not None), default=None)
        return None if latest is None else datetime.fromtimestamp(latest, tz=zone)


class _Columns:
    """Where an activity file holds the columns the phase reads itself (a missing one reads as None)."""

    def __init__(self, header: tuple[str, ...]) -> None:
        where = {name: index for index, name in enumerate(header)}
        self.standard = self._picker(header, [where.get(n) for n in ("marketoGUID", "activityDate", "activityTypeId")])
        """(marketoGUID, activityDate, activityTypeId) of a row."""
        self.effects = self._picker(header, [where.get(n) for n in ("leadId", "primaryAttributeValueId", "attributes")])
        """(leadId, primaryAttributeValueId, attributes) of a row."""

    @staticmethod
    def _picker(header: tuple[str, ...], indexes: list[int | None]) -> Callable[[list[Any]], tuple[Any, ...]]:
        if all(index is not None for index in indexes):
            return operator.itemgetter(*indexes)
        return lambda values: tuple(None if index is None else values[index] for index in indexes)


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
