"""The activity log: every activity of a day, derived on demand, and the two ways the API reads it.

Each activity has an ``activityDate`` and a later commit time (usually seconds later; for email and web types
sometimes hours later, like Marketo's late commits). REST paging follows *commit* time; the bulk ``createdAt``
filter follows *activityDate*, and only rows committed when the job runs are exported.

Days are generated from the seed when asked for and kept in a small LRU, so memory stays flat at any scale.
"""

from __future__ import annotations

import array
import bisect
import collections
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import accumulate
from typing import Protocol

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import catalog, noise
from marketo_stream.sandbox.world.assets import Assets
from marketo_stream.sandbox.world.events import Activity, Event
from marketo_stream.sandbox.world.leads import LeadBook
from marketo_stream.sandbox.world.live import LIVE_GUIDS, LiveActivities
from marketo_stream.sandbox.world.rng import rng, unit
from marketo_stream.sandbox.world.story import SECTIONS, section

GUID_STRIDE = 1_000_000
_TYPES = tuple(noise.WEIGHTS)
_CUMULATIVE = tuple(accumulate(noise.WEIGHTS.values()))


class PreparedIndex(Protocol):
    """Activities derived ahead of time (``prepared.PreparedLog``, which reads this module's log to build itself:
    declared here, as what the log and the export files read of it, so that the two modules do not import each
    other)."""

    def committed(
        self,
        after: tuple[int, int],
        as_of: float,
        types: Collection[int],
        wanted: Callable[[Activity], bool],
        limit: int,
    ) -> list[Activity]: ...

    def lines(
        self,
        start: float,
        end: float,
        as_of: float,
        types: Collection[int] | None,
        primary_ids: Sequence[object] | None = None,
        primary_values: Sequence[object] | None = None,
    ) -> Iterator[tuple[bytes, int]]: ...

    def view(self, name: str, reshape: Callable[[bytes], list[bytes]]) -> PreparedIndex: ...

    def close(self) -> None: ...


class ActivityLog:
    def __init__(
        self, seed: int, book: LeadBook, assets: Assets, noise_per_day: int, late_share: float, late_max: int
    ) -> None:
        self.seed = seed
        self.book = book
        self.assets = assets
        self.noise_per_day = noise_per_day
        self.late_share = late_share
        self.max_lag = max(late_max, 10)
        self._indexed = 0
        self._by_day: dict[int, array.array[int]] = collections.defaultdict(lambda: array.array("I"))
        self._cache: collections.OrderedDict[int, list[Activity]] = collections.OrderedDict()
        self._capacity = max(4, 30_000 // max(1, noise_per_day + book.total // 50))  # ~30k activities cached
        self._lock = threading.RLock()
        self.prepared: PreparedIndex | None = None
        """Every activity derived ahead of time (see ``prepared.py``), when the sandbox was asked to prepare."""
        self.live = LiveActivities(seed, book, assets)
        """Activities added while the sandbox runs (``POST /_sandbox/activities``)."""

    # -- generation ------------------------------------------------------------------------------------------------
    def day(self, day: int) -> list[Activity]:
        """All activities dated on this UTC day (epoch day number), in activityDate order."""
        with self._lock:
            cached = self._cache.get(day)
            if cached is not None:
                self._cache.move_to_end(day)
                return cached
        made = self._with_live(day, self._make_day(day))
        with self._lock:
            self._cache[day] = made
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return made

    def _make_day(self, day: int) -> list[Activity]:
        lo, hi = day * DAY, (day + 1) * DAY
        if hi <= self.book.origin or lo > self.book.horizon:
            return []
        parts = self._parts_on(day)
        events = [e for part in parts for e in self.book.section(part >> 3, part & 7) if lo <= e.t < hi]
        return self._finish_day(day, events)

    def _finish_day(self, day: int, events: list[Event]) -> list[Activity]:
        """Adds the day's noise to its story events (listed by lead, then section) and commits them in order."""
        events += self._noise(day)
        events.sort(key=lambda e: (e.t, e.lead, e.type_id))
        return [Activity(guid, self._commit(guid, e), e) for guid, e in enumerate(events, day * GUID_STRIDE + 1)]

    def _with_live(self, day: int, made: list[Activity]) -> list[Activity]:
        added = self.live.on_day(day)
        if not added:
            return made
        first = day * GUID_STRIDE + LIVE_GUIDS + 1
        extra = [Activity(guid, self._commit(guid, e), e) for guid, e in enumerate(added, first)]
        return sorted(made + extra, key=lambda a: a.event.t)

    def add_live(self, start: float, per_minute: float, minutes: float, types: list[int] | None = None) -> None:
        """A steady stream of activities from ``start`` (see ``live.py``); not for a prepared world, whose
        activities were all derived before it served."""
        if self.prepared is not None:
            raise ValueError("a prepared sandbox cannot add activities live; start it without prepare_exports")
        days = self.live.add_stream(start, per_minute, minutes, types)
        with self._lock:
            for day in days:
                self._cache.pop(day, None)

    def clear_live(self) -> None:
        """Forgets the activities added live (``POST /_sandbox/reset``)."""
        with self._lock:
            self.live = LiveActivities(self.seed, self.book, self.assets)
            self._cache.clear()

    def every_day(self, first: int, last: int) -> Iterator[tuple[int, list[Activity]]]:
        """``(day, day(day))`` for every day from ``first`` to ``last``, telling each lead's story once rather than
        once per day it touches: how a whole world is prepared. A lead's events all come at or after its creation,
        so those of the leads told by the end of a day are all the story events that day holds."""
        book = self.book
        pending: collections.defaultdict[int, list[Event]] = collections.defaultdict(list)
        told = 0
        for day in range(first, last + 1):
            lo, hi = day * DAY, (day + 1) * DAY
            if hi <= book.origin or lo > book.horizon:
                yield day, []
                continue
            for index in range(told, book.count_at(hi)):
                for which in range(len(SECTIONS)):
                    for event in section(book, index, which):
                        pending[event.t // DAY].append(event)
                told = index + 1
            yield day, self._finish_day(day, pending.pop(day, []))

    def _commit(self, guid: int, event: Event) -> int:
        share = unit(self.seed, "lag", guid)
        if event.type_id in noise.LATE_TYPES and share < self.late_share:
            return event.t + 60 + int(unit(self.seed, "late", guid) * (self.max_lag - 60))
        return event.t + int(share * 4)

    def _noise(self, day: int) -> list[Event]:
        r = rng(self.seed, "noise", day)
        count = int(self.noise_per_day * (0.8 + 0.4 * r.random()))
        book, events = self.book, []
        for t in sorted(day * DAY + r.randrange(DAY) for _ in range(count)):
            if not book.origin <= t <= book.horizon:
                continue
            existing = book.count_at(t)
            for _attempt in range(3):
                index = r.randrange(existing) if existing else -1
                if index >= 0 and book.alive(index, t):
                    break
            else:
                continue
            type_id = r.choices(_TYPES, cum_weights=_CUMULATIVE)[0]
            primary_id, primary_value, attributes, campaign = noise.values(type_id, r, self.assets, t)
            lead = book.lead_id(index)
            events.append(Event(t, type_id, lead, primary_id, primary_value, attributes, campaign, (), lead))
        return events

    def _parts_on(self, day: int) -> list[int]:
        """The story sections (``index << 3 | section``) with an event on this day; the index grows on demand."""
        with self._lock:
            needed = self.book.count_at((day + 1) * DAY)
            while self._indexed < needed:
                index = self._indexed
                days = {(self.book.created(index) // DAY, 0)}  # New Lead happens at creation
                for which in range(1, len(SECTIONS) - 1):
                    days.update((e.t // DAY, which) for e in section(self.book, index, which))
                fate = self.book.fate(index)
                if fate.kind != "alive":
                    days.add((int(fate.end // DAY), len(SECTIONS) - 1))
                for when, which in sorted(days):
                    self._by_day[when].append(index << 3 | which)
                self._indexed += 1
            return list(self._by_day.get(day, ()))

    def prepare(self, until: float) -> None:
        """Indexes every lead created by ``until`` now rather than on the first query."""
        self._parts_on(int(until // DAY))

    # -- reading ---------------------------------------------------------------------------------------------------
    def visible(self, activity: Activity, as_of: float) -> bool:
        """Committed by ``as_of`` and not yet purged by Marketo's retention for its type."""
        kept = catalog.BY_ID[activity.type_id].retention_days * DAY
        return activity.commit <= as_of and activity.date >= as_of - kept

    def dated(self, start: float, end: float, as_of: float, types: Collection[int] | None) -> Iterator[Activity]:
        """Activities with ``start <= activityDate <= end`` (bulk's inclusive ``createdAt`` filter)."""
        for day in range(max(int(start // DAY), int(self.book.origin // DAY)), int(end // DAY) + 1):
            for activity in self.day(day):
                wanted = types is None or activity.type_id in types
                if wanted and start <= activity.date <= end and self.visible(activity, as_of):
                    yield activity

    def committed(
        self,
        after: tuple[int, int],
        as_of: float,
        wanted: Callable[[Activity], bool],
        limit: int,
        types: Collection[int] | None = None,
    ) -> list[Activity]:
        """Up to ``limit`` activities committed after the ``(commit, guid)`` cursor and by ``as_of``, in order.

        ``types``, when given, are the only types ``wanted`` accepts: a prepared log then reads just those."""
        if types is not None and self.prepared is not None:
            return self.prepared.committed(after, as_of, types, wanted, limit)
        pending: list[tuple[int, int, Activity]] = []
        first = max(int((after[0] - self.max_lag) // DAY), int(self.book.origin // DAY))
        for day in range(first, int(as_of // DAY) + 1):
            for activity in self.day(day):
                key = (activity.commit, activity.guid)
                if key > after and self.visible(activity, as_of) and wanted(activity):
                    bisect.insort(pending, (*key, activity))
            settled = bisect.bisect_left(pending, ((day + 1) * DAY, 0))
            if settled >= limit:
                break
        return [item[2] for item in pending[:limit]]
