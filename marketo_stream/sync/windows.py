"""Bulk Extract requests over a date window, built in one place for activities, leads and custom objects, and the
cheap bounds that tell which windows are known to be empty before any job is paid for.

Our windows are half-open ``[start, end)``; Marketo's date filters are inclusive at both ends with a precision of
one second, so a window is asked for as ``[start, end - 1 s]`` (``bulk.request.date_span``) and read back from a
request by adding the second again.

Bounds, each a few REST calls against the minutes and the calls of an export job:
- activities: one paging token and the first page of ``activities.json`` per group of ≤ 10 types
  (``marketo.activity_pages.first_activities``) tell where the history starts, and, on later runs, whether
  anything was committed since the newest finished window;
- leads: Marketo logs a New Lead activity for every lead and keeps it for ever, so the instance's first New Lead
  row bounds every ``createdAt`` (``earliest_lead_created``: a paging token and one ``activities.json`` call);
- custom objects hang off leads, so none was updated before the instance's first lead was created.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marketo_stream.activity_effects import NEW_LEAD
from marketo_stream.bulk.request import ExportKind, ExportRequest, date_span
from marketo_stream.intervals import Interval, IntervalSet
from marketo_stream.marketo.activity_pages import first_activities
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.planner import data_floor, done_through, known_empty, unprobed_history

ONE_SECOND = timedelta(seconds=1)


def window_request(
    kind: ExportKind,
    window: Interval,
    *,
    label: str,
    date_field: str = "createdAt",
    fields: Iterable[str] = (),
    object_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ExportRequest:
    """An export of ``kind`` for ``window`` on ``date_field``, with ``extra`` filters beside the window."""
    return ExportRequest(
        kind=kind,
        fields=tuple(fields),
        filter={date_field: date_span(window), **(extra or {})},
        label=label,
        object_name=object_name,
    )


def request_window(request: ExportRequest) -> Interval:
    """The half-open window a request asks for."""
    found = request.window()
    if found is None:
        raise ValueError(f"export {request.label} has no date window")
    _, start, end = found
    return Interval(start, end + ONE_SECOND)


BEFORE_ANY_LEAD = datetime(2006, 1, 1, tzinfo=UTC)
"""Before Marketo existed: a New Lead walk from here finds the instance's first lead."""


@dataclass(frozen=True)
class ActivityBounds:
    """What the probes found: spans to mark done without an export, and how to plan the rest."""

    empty: tuple[Interval, ...] = ()
    """Known to hold no activity not already published: done without an export job."""
    quiet: bool = False
    """Nothing was committed since the newest finished window: no window to re-read for late commits either."""
    rows_per_day: float | None = None
    """The density the probe saw (sizes the first run's windows)."""


def activity_bounds(
    client: MarketoClient,
    done: IntervalSet,
    type_ids: Collection[int],
    *,
    now: datetime,
    horizon: datetime,
    published: Collection[str],
) -> ActivityBounds:
    """Probes history once, on the run that finds nothing done at the horizon (where does the data start?), and
    on later runs the span since the newest finished window (was anything new committed? ``published``: GUIDs
    already published within the lookback, which do not count)."""
    if not type_ids:
        return ActivityBounds()
    now = now.replace(microsecond=0)
    if unprobed_history(done, horizon=horizon, now=now):
        found = first_activities(client, horizon, type_ids, now=now)
        floor = data_floor(found.earliest, now=now, horizon=horizon)
        empty = known_empty(done, horizon=horizon, floor=floor)
        return ActivityBounds(empty=(empty,) if empty else (), rows_per_day=found.rows_per_day)
    latest = done_through(done, horizon=horizon, now=now)
    if latest is None:
        return ActivityBounds()  # history still being filled: the plan reads the newest span anyway
    if latest >= now:
        return ActivityBounds(quiet=True)  # read up to now already
    found = first_activities(client, latest, type_ids, now=now, known=published)
    if found.earliest is not None:
        return ActivityBounds()
    return ActivityBounds(empty=(Interval(latest, now),), quiet=True)


def earliest_lead_created(client: MarketoClient, *, now: datetime) -> datetime | None:
    """When the instance's first lead was created: Marketo logs a New Lead activity for every lead it creates and
    keeps those for ever, so the first New Lead row from before Marketo existed bounds every lead's ``createdAt``,
    also those older than the horizon, whose custom objects may have changed since (a paging token and one
    ``activities.json`` call). None when there is none."""
    return first_activities(client, BEFORE_ANY_LEAD, (NEW_LEAD,), now=now).earliest


def before_first_lead(done: IntervalSet, *, client: MarketoClient, now: datetime, horizon: datetime) -> Interval | None:
    """The span below the instance's first lead not yet done (for leads by ``createdAt`` and custom objects by
    ``updatedAt``): known to hold nothing, so the caller marks it done without an export. Probed only while nothing
    is done at the horizon, so a later run spends no call on it."""
    if not unprobed_history(done, horizon=horizon, now=now):
        return None
    earliest = earliest_lead_created(client, now=now)
    if earliest is None:
        return None
    return known_empty(done, horizon=horizon, floor=data_floor(earliest, now=now, horizon=horizon))


NOT_IN_MEMBER_EXPORTS = frozenset({"progressionStatus", "progressionStatusType", "stream"})
"""Program member fields the REST listing shows that Bulk Extract does not export (it refuses their names, 1003);
Marketo documents the standard fields a member export takes, and these are not among them."""
PARENTS_PER_MEMBER_EXPORT = 10
"""A program member export takes at most 10 ``programIds``."""
CALLS_PER_JOB = 6
"""What one export job costs in calls: create, enqueue, about three status polls at Marketo's job latency, the file."""


def member_requests(label: str, parent_ids: Iterable[int], fields: Iterable[str]) -> list[ExportRequest]:
    """Program member exports of ``parent_ids``, ten a job, asking only for the exportable ``fields`` (no export MB
    for columns the table does not keep)."""
    ids = sorted(parent_ids)
    wanted = tuple(f for f in fields if f not in NOT_IN_MEMBER_EXPORTS)
    return [
        ExportRequest(
            kind="program_members",
            fields=wanted,
            filter={"programIds": chunk},
            label=f"{label}:{chunk[0]}..{chunk[-1]}",
        )
        for chunk in (ids[i : i + PARENTS_PER_MEMBER_EXPORT] for i in range(0, len(ids), PARENTS_PER_MEMBER_EXPORT))
    ]


def export_pays(pages_by_parent: Mapping[int, int]) -> bool:
    """Whether exporting these parents' members costs fewer calls than paging them (``pages_by_parent``: the pages
    each parent's listing is expected to take, at least one)."""
    jobs = -(-len(pages_by_parent) // PARENTS_PER_MEMBER_EXPORT)
    return jobs * CALLS_PER_JOB < sum(max(1, pages) for pages in pages_by_parent.values())
