"""Which windows to extract next, and in what order: priority-first, and never a window known to be empty.

The newest days matter most to users, so a run first brings the newest data up to date (the newest
``priority`` span on a first run; everything since the last finished window, re-reading a ``lookback``
overlap for late-committed activities, on later runs), and only then backfills history, newest window
first, down to the horizon (retention limit or configured start). Where a cheap bound says a table's data
starts (``data_floor``), the span below it is known to be empty and costs no export job. Pure: the caller
supplies ``now`` and the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marketo_stream.intervals import Interval, IntervalSet, utc

MAX_BULK_WINDOW = timedelta(days=31)
"""Marketo refuses a bulk ``createdAt``/``updatedAt`` filter longer than this."""
DATA_START_MARGIN = timedelta(hours=6)
"""Below a bound on where data starts, this much is still extracted: the bound is the earliest row among the first
committed, and a row Marketo commits late (a Send Email is logged once the mail is sent) can be dated up to hours
before the rows committed with it."""


@dataclass(frozen=True, slots=True)
class WindowPlan:
    priority: tuple[Interval, ...]
    """Newest first; every one of these finishes before any backfill window is requested."""
    backfill: tuple[Interval, ...]
    """Newest first, down to the horizon."""

    def all(self) -> tuple[Interval, ...]:
        return self.priority + self.backfill


def window_size(rows_per_day: float | None, *, target_rows: int, smallest: timedelta, largest: timedelta) -> timedelta:
    """Size windows so that one export holds about ``target_rows`` rows, within Marketo's limits."""
    largest = min(largest, MAX_BULK_WINDOW)
    if not rows_per_day or rows_per_day <= 0:
        return largest
    days = target_rows / rows_per_day
    if days >= largest.total_seconds() / 86400:
        return largest
    return max(smallest, timedelta(days=days))


def data_floor(
    earliest: datetime | None, *, now: datetime, horizon: datetime, margin: timedelta = DATA_START_MARGIN
) -> datetime:
    """Where extraction must start, given the earliest row a cheap bound found (None: no row at all, so nothing
    before ``now`` holds data): that row's time less ``margin``, in whole seconds, within ``[horizon, now]``."""
    now = utc(now).replace(microsecond=0)
    if earliest is None:
        return now
    return min(max(utc(earliest).replace(microsecond=0) - margin, utc(horizon)), now)


def known_empty(done: IntervalSet, *, horizon: datetime, floor: datetime) -> Interval | None:
    """The span below ``floor`` not yet done: known to hold nothing, so it is marked done without an export."""
    gaps = done.missing(Interval(utc(horizon), max(utc(horizon), utc(floor))))
    if not gaps:
        return None
    return Interval(gaps[0].start, gaps[-1].end)


def unprobed_history(done: IntervalSet, *, horizon: datetime, now: datetime) -> bool:
    """Whether nothing is done at the horizon yet: where the data starts is unknown (a first run), and one cheap
    probe can spare every empty window below it."""
    gaps = done.missing(Interval(utc(horizon), max(utc(horizon), utc(now))))
    return bool(gaps) and gaps[0].start == utc(horizon)


def done_through(done: IntervalSet, *, horizon: datetime, now: datetime) -> datetime | None:
    """The end of the newest finished span when everything from the horizon up to it (or up to ``now``) is done;
    None while the history is still being filled (or nothing is done)."""
    latest = done.latest_end()
    if latest is None or done.missing(Interval(horizon, min(latest, now))):
        return None
    return latest


def reads_on_from_latest(done: IntervalSet, horizon: datetime, first_run: bool) -> bool:
    """Whether the end of the newest finished span is where the newest data was read to. Not on a first run whose
    newest finished span reaches down to the horizon: that is history (known empty, or all read), and reading on
    from its end would make the whole history "newest data"."""
    items = list(done)
    return not (first_run and items and items[-1].start <= utc(horizon))


def plan_windows(
    done: IntervalSet,
    *,
    now: datetime,
    horizon: datetime,
    priority_span: timedelta = timedelta(days=7),
    lookback: timedelta = timedelta(days=1),
    window: timedelta = MAX_BULK_WINDOW,
    refresh_from_latest: bool = True,
) -> WindowPlan:
    """Plan the windows still to extract for a group of tables that share ``done``. ``refresh_from_latest=False``:
    the newest finished window is no reason to read on from it (nothing new was committed since, or it is history
    known to be empty)."""
    if window <= timedelta(0) or window > MAX_BULK_WINDOW:
        raise ValueError(f"window must be within (0, 31 days], got {window}")
    now = utc(now).replace(microsecond=0)
    horizon = min(utc(horizon), now)

    fresh = IntervalSet()
    for gap in done.missing(Interval(max(horizon, now - priority_span), now)):
        fresh.add(gap)
    latest = done.latest_end() if refresh_from_latest else None
    if latest is not None:
        # everything since the newest finished window, plus the overlap that catches late commits
        fresh.add(Interval(max(horizon, min(latest, now) - lookback), now))
    priority = tuple(chunk for gap in reversed(list(fresh)) for chunk in gap.split_newest_first(window))

    covered = IntervalSet([*done, *fresh])
    gaps = covered.missing(Interval(horizon, now))
    backfill = tuple(chunk for gap in reversed(gaps) for chunk in gap.split_newest_first(window))
    if len(priority) == 1 and len(backfill) == 1 and backfill[0].end == priority[0].start:
        whole = Interval(backfill[0].start, priority[0].end)
        if whole.length <= window:  # a short history is one job, not a priority job and then a backfill job
            return WindowPlan(priority=(whole,), backfill=())
    return WindowPlan(priority=priority, backfill=backfill)
