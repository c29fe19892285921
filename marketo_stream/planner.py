"""Which activity windows to extract next, and in what order: priority-first.

The newest days matter most to users, so a run first brings the newest data up to date (the newest
``priority`` span on a first run; everything since the last finished window, re-reading a ``lookback``
overlap for late-committed activities, on later runs), and only then backfills history, newest window
first, down to the horizon (retention limit or configured start). Pure: the caller supplies ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marketo_stream.intervals import Interval, IntervalSet, utc

MAX_BULK_WINDOW = timedelta(days=31)
"""Marketo refuses a bulk ``createdAt``/``updatedAt`` filter longer than this."""


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


def plan_windows(
    done: IntervalSet,
    *,
    now: datetime,
    horizon: datetime,
    priority_span: timedelta = timedelta(days=7),
    lookback: timedelta = timedelta(days=1),
    window: timedelta = MAX_BULK_WINDOW,
) -> WindowPlan:
    """Plan the windows still to extract for a group of tables that share ``done``."""
    if window <= timedelta(0) or window > MAX_BULK_WINDOW:
        raise ValueError(f"window must be within (0, 31 days], got {window}")
    now = utc(now).replace(microsecond=0)
    horizon = min(utc(horizon), now)

    fresh = IntervalSet()
    for gap in done.missing(Interval(max(horizon, now - priority_span), now)):
        fresh.add(gap)
    latest = done.latest_end()
    if latest is not None:
        # everything since the newest finished window, plus the overlap that catches late commits
        fresh.add(Interval(max(horizon, min(latest, now) - lookback), now))
    priority = tuple(chunk for gap in reversed(list(fresh)) for chunk in gap.split_newest_first(window))

    covered = IntervalSet([*done, *fresh])
    gaps = covered.missing(Interval(horizon, now))
    backfill = tuple(chunk for gap in reversed(gaps) for chunk in gap.split_newest_first(window))
    return WindowPlan(priority=priority, backfill=backfill)
