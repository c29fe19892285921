"""Activities added while the sandbox runs (``POST /_sandbox/activities``): a steady stream of noise-like activities,
beside the ones the world derives from its seed, for benchmarks and tests of freshness.

Each added activity is dated on a whole second and gets a GUID of its day's own range, from ``LIVE_GUIDS`` on, so
that the world's GUIDs never shift; its commit time follows the log's rule (most within seconds, some email and web
types late). Added activities are read by the log like any other: REST paging, bulk exports and the ground truth.
"""

from __future__ import annotations

import collections
import threading

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import noise
from marketo_stream.sandbox.world.assets import Assets
from marketo_stream.sandbox.world.events import Event
from marketo_stream.sandbox.world.leads import LeadBook
from marketo_stream.sandbox.world.rng import rng

LIVE_GUIDS = 900_000
"""Offset within a day's GUID range (``GUID_STRIDE`` per day) of the added activities: past any day's own."""


class LiveActivities:
    def __init__(self, seed: int, book: LeadBook, assets: Assets) -> None:
        self.seed = seed
        self.book = book
        self.assets = assets
        self._by_day: dict[int, list[Event]] = collections.defaultdict(list)
        self._streams = 0
        self._lock = threading.Lock()

    def add_stream(self, start: float, per_minute: float, minutes: float, types: list[int] | None = None) -> list[int]:
        """Activities every ``60 / per_minute`` seconds from ``start`` for ``minutes``, of the noise mix's types (or
        of ``types``, in turn) on living leads; returns the days that changed."""
        if per_minute <= 0 or minutes <= 0:
            raise ValueError("per_minute and minutes must be positive")
        unknown = sorted(set(types or ()) - set(noise.WEIGHTS))
        if unknown:
            raise ValueError(f"no live activities of types {unknown}; known: {sorted(noise.WEIGHTS)}")
        with self._lock:
            self._streams += 1
            r = rng(self.seed, "live", self._streams)
        count = int(per_minute * minutes)
        kinds, weights = (types, None) if types else (list(noise.WEIGHTS), list(noise.WEIGHTS.values()))
        days: set[int] = set()
        made: list[Event] = []
        for k in range(count):
            t = int(start + k * 60.0 / per_minute)
            existing = self.book.count_at(t)
            if not existing:
                continue
            index = r.randrange(existing)
            if not self.book.alive(index, t):
                continue
            type_id = kinds[k % len(kinds)] if weights is None else r.choices(kinds, weights=weights)[0]
            primary_id, primary_value, attributes, campaign = noise.values(type_id, r, self.assets, t)
            lead = self.book.lead_id(index)
            made.append(Event(t, type_id, lead, primary_id, primary_value, attributes, campaign, (), lead))
        with self._lock:
            for event in made:
                self._by_day[event.t // DAY].append(event)
                days.add(event.t // DAY)
        return sorted(days)

    def all_events(self) -> list[Event]:
        with self._lock:
            return [event for events in self._by_day.values() for event in events]

    def on_day(self, day: int) -> list[Event]:
        """The added activities dated on this day, in the order they were added (their GUID order)."""
        with self._lock:
            return list(self._by_day.get(day, ()))
