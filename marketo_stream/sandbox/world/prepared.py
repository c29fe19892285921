"""Every activity of the world, derived once and kept on disk, so reading the log costs no generation.

Deriving an activity from the seed costs tens of microseconds, and rendering it as an export line as much again:
a world of a million activities cannot be exported at hundreds of thousands of rows a second that way. Prepared,
each activity is stored twice, in the log's order (day by day, each day in ``activityDate`` order):

- its Bulk Extract line with the default fields (``lines.bin``), so an export file is those lines selected;
- its event, ``marshal``-led (``events.bin``), so a REST page materialises only the activities it returns;

beside small arrays held in memory (activityDate, type id, commit time, marketoGUID, the primary attribute, and
where each line and event starts) that every filter is answered from, and, per type, the rows ordered by
``(commit time, marketoGUID)`` for REST paging. The bytes are the ones the plain log renders, so a file assembled
here is the file the plain log writes.
"""

from __future__ import annotations

import bisect
import heapq
import json
import marshal
import os
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import catalog
from marketo_stream.sandbox.world.activitylog import ActivityLog
from marketo_stream.sandbox.world.events import Activity, Event

_NO_ID = -(2**63)
"""primaryAttributeValueId None, in a signed 64-bit array."""
_ROW_BITS = 32
_ROW_MASK = (1 << _ROW_BITS) - 1
_ARRAYS = {
    "guid": "q",
    "date": "q",
    "commit": "q",
    "type": "I",
    "primary_id": "q",
    "primary_value": "I",
    "line_start": "Q",
    "event_start": "Q",
    "day_first": "Q",
    "by_type": "Q",
}

RenderLine = Callable[[Activity], bytes]


class PreparedLog:
    """A prepared log read from ``directory`` (see ``build``); its files stay open while it is in use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        meta = json.loads((directory / "meta.json").read_text())
        self.first_day: int = meta["first_day"]
        self.rows: int = meta["rows"]
        self._values: list[str | None] = meta["primary_values"]
        self._type_ranges: dict[int, tuple[int, int]] = {int(k): (v[0], v[1]) for k, v in meta["by_type"].items()}
        loaded: dict[str, array[int]] = {}
        for name, code in _ARRAYS.items():
            loaded[name] = array(code)
            with (directory / f"{name}.{code}").open("rb") as file:
                loaded[name].fromfile(file, meta["lengths"][name])
        self._guid, self._date, self._commit = loaded["guid"], loaded["date"], loaded["commit"]
        self._type, self._primary_id, self._primary_value = (
            loaded["type"],
            loaded["primary_id"],
            loaded["primary_value"],
        )
        self._line_start, self._event_start = loaded["line_start"], loaded["event_start"]
        self._day_first, self._by_type = loaded["day_first"], loaded["by_type"]
        self._lines = os.open(directory / "lines.bin", os.O_RDONLY)
        self._events = os.open(directory / "events.bin", os.O_RDONLY)

    def close(self) -> None:
        for fd in (self._lines, self._events):
            os.close(fd)

    # -- bulk: the lines of an export ----------------------------------------------------------------------------
    def lines(
        self,
        start: float,
        end: float,
        as_of: float,
        types: Collection[int] | None,
        primary_ids: Sequence[object] | None = None,
        primary_values: Sequence[object] | None = None,
    ) -> Iterator[tuple[bytes, int]]:
        """The export lines of activities dated ``start <= activityDate <= end``, committed by ``as_of`` and kept by
        retention, of ``types`` (all when None), in the log's order: ``(bytes, lines in them)`` a day at a time."""
        oldest = {t.id: as_of - t.retention_days * DAY for t in catalog.ALL}
        first = max(int(start // DAY), self.first_day)
        last = min(int(end // DAY), self.first_day + len(self._day_first) - 2)
        dates, commits, type_ids, line_start = self._date, self._commit, self._type, self._line_start
        ids, values, value_names = self._primary_id, self._primary_value, self._values
        for day in range(first, last + 1):
            lo, hi = self._day_first[day - self.first_day], self._day_first[day - self.first_day + 1]
            if lo == hi:
                continue
            base = line_start[lo]
            data = os.pread(self._lines, line_start[hi] - base, base)
            chunks: list[bytes] = []
            count, run_start, run_end = 0, 0, 0
            for row in range(lo, hi):
                type_id = type_ids[row]
                if types is not None and type_id not in types:
                    continue
                date = dates[row]
                if not start <= date <= end or commits[row] > as_of or date < oldest[type_id]:
                    continue
                if primary_ids is not None:
                    primary_id = ids[row]
                    if (None if primary_id == _NO_ID else primary_id) not in primary_ids:
                        continue
                if primary_values is not None and value_names[values[row]] not in primary_values:
                    continue
                count += 1
                line_from, line_to = line_start[row] - base, line_start[row + 1] - base
                if line_from != run_end:
                    chunks.append(data[run_start:run_end])
                    run_start = line_from
                run_end = line_to
            if count:
                chunks.append(data[run_start:run_end])
                yield b"".join(chunks), count

    # -- REST: pages by commit time ------------------------------------------------------------------------------
    def committed(
        self,
        after: tuple[int, int],
        as_of: float,
        types: Collection[int],
        wanted: Callable[[Activity], bool],
        limit: int,
    ) -> list[Activity]:
        """``ActivityLog.committed`` for a predicate that only accepts activities of ``types``."""
        kept = {t.id: t.retention_days * DAY for t in catalog.ALL}
        streams = [self._from(type_id, after[0]) for type_id in types if type_id in self._type_ranges]
        found: list[Activity] = []
        for key in heapq.merge(*streams):
            commit, row = key >> _ROW_BITS, key & _ROW_MASK
            if commit > as_of:
                break
            if (commit, self._guid[row]) <= after or self._date[row] < as_of - kept[self._type[row]]:
                continue
            activity = self.activity(row)
            if wanted(activity):
                found.append(activity)
                if len(found) >= limit:
                    break
        return found

    def _from(self, type_id: int, commit: int) -> Iterator[int]:
        """The ``commit << 32 | row`` keys of one type from the first committed at ``commit`` on."""
        lo, hi = self._type_ranges[type_id]
        keys = self._by_type
        for position in range(bisect.bisect_left(keys, max(commit, 0) << _ROW_BITS, lo, hi), hi):
            yield keys[position]

    def activity(self, row: int) -> Activity:
        start = self._event_start[row]
        data = os.pread(self._events, self._event_start[row + 1] - start, start)
        return Activity(self._guid[row], self._commit[row], Event(*marshal.loads(data)))

    # -- building ------------------------------------------------------------------------------------------------
    @staticmethod
    def build(log: ActivityLog, first_day: int, last_day: int, directory: Path, render_line: RenderLine) -> None:
        """Derives every activity dated from ``first_day`` to ``last_day`` (epoch day numbers) into ``directory``."""
        PreparedLog.write(log.every_day(first_day, last_day), first_day, directory, render_line)

    @staticmethod
    def write(
        days: Iterable[tuple[int, list[Activity]]], first_day: int, directory: Path, render_line: RenderLine
    ) -> None:
        """Writes consecutive days' activities, from ``first_day`` on, into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        made = {name: array(code) for name, code in _ARRAYS.items()}
        guids, dates, commits, type_ids = made["guid"], made["date"], made["commit"], made["type"]
        primary_ids, primary_values = made["primary_id"], made["primary_value"]
        line_start, event_start, day_first = made["line_start"], made["event_start"], made["day_first"]
        value_index: dict[str | None, int] = {None: 0}
        line_at = event_at = 0
        with (directory / "lines.bin").open("wb") as lines, (directory / "events.bin").open("wb") as events:
            for expected, (day, activities) in enumerate(days, first_day):
                if day != expected:
                    raise ValueError(f"day {day} where day {expected} was expected")
                day_first.append(len(guids))
                day_lines, day_events = [], []
                for activity in activities:
                    event = activity.event
                    line = render_line(activity)
                    packed = marshal.dumps(
                        (event.t, event.type_id, event.lead, event.primary_id, event.primary_value,
                         event.attributes, event.campaign, event.effect, event.subject)
                    )  # fmt: skip
                    day_lines.append(line)
                    day_events.append(packed)
                    guids.append(activity.guid)
                    dates.append(event.t)
                    commits.append(activity.commit)
                    type_ids.append(event.type_id)
                    primary_ids.append(_NO_ID if event.primary_id is None else event.primary_id)
                    primary_values.append(value_index.setdefault(event.primary_value, len(value_index)))
                    line_start.append(line_at)
                    event_start.append(event_at)
                    line_at += len(line)
                    event_at += len(packed)
                lines.write(b"".join(day_lines))
                events.write(b"".join(day_events))
            day_first.append(len(guids))
            line_start.append(line_at)
            event_start.append(event_at)
        by_type = _by_type(type_ids, commits)
        made["by_type"] = array("Q", (key for keys in by_type.values() for key in keys))
        ranges, at = {}, 0
        for type_id, keys in by_type.items():
            ranges[str(type_id)] = [at, at + len(keys)]
            at += len(keys)
        for name, values in made.items():
            with (directory / f"{name}.{values.typecode}").open("wb") as file:
                values.tofile(file)
        meta: dict[str, Any] = {
            "first_day": first_day,
            "rows": len(guids),
            "lengths": {name: len(values) for name, values in made.items()},
            "primary_values": list(value_index),
            "by_type": ranges,
        }
        (directory / "meta.json").write_text(json.dumps(meta))


def _by_type(type_ids: array[int], commits: array[int]) -> dict[int, list[int]]:
    """Per type, ``commit << 32 | row`` of its rows, ascending: rows grow with marketoGUID, so this is the order
    of ``(commit time, marketoGUID)`` that REST pages follow."""
    if len(type_ids) > _ROW_MASK or any(not 0 <= c < 1 << (64 - _ROW_BITS) for c in commits):
        raise ValueError("the world is too large or too far in time to prepare")
    found: dict[int, list[int]] = {}
    for row, (type_id, commit) in enumerate(zip(type_ids, commits, strict=True)):
        found.setdefault(type_id, []).append(commit << _ROW_BITS | row)
    for keys in found.values():
        keys.sort()
    return found
