"""REST activity reads by type group: ``activities.json`` takes at most 10 type ids a call, so every read of
activities over REST is one date-token walk per group of ≤ 10 types, all from one paging token.

Two uses: :func:`activity_pages` walks a group's pages (a streaming tail reads activities this way), and
:func:`first_activities` reads only as far as the first rows of each group, which is all a planner needs to know
whether a span holds anything and where its data starts, for a handful of calls instead of an export job.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from marketo_stream.intervals import format_instant
from marketo_stream.marketo.client import MarketoClient, Params
from marketo_stream.marketo.paging import MAX_BATCH, Page, date_token_pages, paging_token

MAX_TYPES_PER_CALL = 10
"""``activities.json`` refuses more than 10 ``activityTypeIds``."""
ACTIVITIES_PATH = "/rest/v1/activities.json"


def type_groups(type_ids: Iterable[int], size: int = MAX_TYPES_PER_CALL) -> list[tuple[int, ...]]:
    """The types in sorted groups of at most ``size``: the fewest ``activities.json`` walks that cover them."""
    ordered = sorted(set(type_ids))
    return [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]


def activity_pages(client: MarketoClient, since_token: str, type_ids: Collection[int]) -> Iterator[Page]:
    """Pages of one group's activities (≤ 10 types) from ``since_token`` until ``moreResult`` is false; the last
    page's ``next_page_token`` is where a later walk resumes."""
    if not 1 <= len(type_ids) <= MAX_TYPES_PER_CALL:
        raise ValueError(f"activities.json takes 1 to {MAX_TYPES_PER_CALL} activity type ids, got {len(type_ids)}")
    params: Params = {"activityTypeIds": sorted(type_ids), "batchSize": MAX_BATCH}
    return date_token_pages(client, ACTIVITIES_PATH, params, since_token=since_token)


@dataclass(frozen=True, slots=True)
class FirstActivities:
    """What the first rows of every type group told: whether anything new is there, and how dense it is."""

    earliest: datetime | None
    """The earliest ``activityDate`` among the first new rows of every group (None: no new activity at all)."""
    rows_per_day: float | None
    """Rows per day, estimated from the first page of every group that had one (None: nothing to go by)."""


def first_activities(
    client: MarketoClient,
    since: datetime,
    type_ids: Collection[int],
    *,
    now: datetime,
    known: Collection[str] = (),
) -> FirstActivities:
    """Reads each group's pages from ``since`` only until a page holds a row whose ``marketoGUID`` is not in
    ``known``: one paging-token call plus, per group of ≤ 10 types, one call when the group is empty or its first
    page has rows (more only through Marketo's empty ``moreResult`` pages)."""
    if not type_ids:
        return FirstActivities(None, None)
    token = paging_token(client, format_instant(since))
    earliest: datetime | None = None
    rate = 0.0
    measured = False
    for group in type_groups(type_ids):
        for page in activity_pages(client, token, group):
            dates = [_instant(row.get("activityDate")) for row in page.rows if str(row.get("marketoGUID")) not in known]
            found = [d for d in dates if d is not None]
            if not found:
                continue
            first = min(found)
            earliest = first if earliest is None else min(earliest, first)
            if page.more_result:  # a full page: its span says how dense the group is
                days = max((max(found) - first).total_seconds() / 86400, 1 / 24)
            else:  # the whole group since ``since``
                days = max((now - first).total_seconds() / 86400, 1 / 24)
            rate += len(found) / days
            measured = True
            break
    return FirstActivities(earliest, rate if measured else None)


def _instant(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
