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

An export of other fields (another order, a subset) reads a *view*: every line rewritten once with those fields
(``view``), kept beside the default lines in the same cache entry, and selected from as the default lines are.
The first export of a choice of fields pays for the rewrite; every export of it after that, in this sandbox or
the next one of the same world, is as fast as the default.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import heapq
import json
import marshal
import operator
import os
import threading
import uuid
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import catalog
from marketo_stream.sandbox.world.activitylog import GUID_STRIDE, ActivityLog
from marketo_stream.sandbox.world.events import Activity, Event

_ROW_LIMIT = 1 << 32
_UNSIGNED, _SIGNED = ("I", "Q"), ("i", "q")
_WIDE_NO_ID, _NARROW_NO_ID = -(2**63), -(2**31)
"""primaryAttributeValueId None, in 64 or 32 bits."""

RenderLine = Callable[[Activity], bytes]


class PreparedLog:
    """A prepared log read from ``directory`` (see ``build``); its files stay open while it is in use.

    Times are kept as seconds since the first prepared day (``base``) and every array in the narrowest type that
    holds it, so a million activities take some 40 MB of memory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        meta = json.loads((directory / "meta.json").read_text())
        self.first_day: int = meta["first_day"]
        self.base: int = self.first_day * DAY
        self.rows: int = meta["rows"]
        self._no_id: int = meta["no_id"]
        self._values: list[str | None] = meta["primary_values"]
        self._type_ranges: dict[int, tuple[int, int]] = {int(k): (v[0], v[1]) for k, v in meta["by_type"].items()}
        loaded: dict[str, array[int]] = {}
        for name, code in meta["typecodes"].items():
            loaded[name] = array(code)
            with (directory / f"{name}.{code}").open("rb") as file:
                loaded[name].fromfile(file, meta["lengths"][name])
        self._date, self._commit, self._type = loaded["date"], loaded["commit"], loaded["type"]
        self._primary_id, self._primary_value = loaded["primary_id"], loaded["primary_value"]
        self._line_start, self._event_start = loaded["line_start"], loaded["event_start"]
        self._day_first, self._by_type = loaded["day_first"], loaded["by_type"]
        self._lines = os.open(directory / "lines.bin", os.O_RDONLY)
        self._events = os.open(directory / "events.bin", os.O_RDONLY)
        self._views: dict[str, PreparedLog] = {}
        self._views_lock = threading.Lock()

    def close(self) -> None:
        for view in self._views.values():
            os.close(view._lines)
        self._views.clear()
        for fd in (self._lines, self._events):
            os.close(fd)

    # -- views: the same rows with other fields ------------------------------------------------------------------
    def view(self, name: str, reshape: Callable[[bytes], list[bytes]]) -> PreparedLog:
        """This log with every line rewritten by ``reshape`` (a chunk of default lines -> the new lines, without
        their line ends); ``name`` says what the rewrite is (the fields), so a view made once is found again."""
        with self._views_lock:
            if name not in self._views:
                self._views[name] = self._open_view(name, reshape)
            return self._views[name]

    def _open_view(self, name: str, reshape: Callable[[bytes], list[bytes]]) -> PreparedLog:
        where = self.directory / f"view-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        if not (where / "line_start.q").exists():
            self._write_view(where, reshape)
        view = copy.copy(self)
        view._views = {}
        view._line_start = array("q")
        with (where / "line_start.q").open("rb") as file:
            view._line_start.fromfile(file, self.rows + 1)
        view._lines = os.open(where / "lines.bin", os.O_RDONLY)
        return view

    def _write_view(self, where: Path, reshape: Callable[[bytes], list[bytes]]) -> None:
        partial = where.with_name(f"{where.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        partial.mkdir(parents=True)
        starts = array("q", [0])
        with (partial / "lines.bin").open("wb") as out:
            for day in range(len(self._day_first) - 1):
                lo, hi = self._day_first[day], self._day_first[day + 1]
                if lo == hi:
                    continue
                offset = self._line_start[lo]
                lines = reshape(os.pread(self._lines, self._line_start[hi] - offset, offset))
                if len(lines) != hi - lo:
                    raise ValueError(f"a view of day {self.first_day + day} has {len(lines)} lines, not {hi - lo}")
                out.write(b"\n".join(lines) + b"\n")
                starts.extend(list(accumulate(map(operator.add, map(len, lines), repeat(1)), initial=starts[-1]))[1:])
        with (partial / "line_start.q").open("wb") as file:
            starts.tofile(file)
        try:
            partial.rename(where)
        except OSError:  # another sandbox made the same view first; theirs is as good
            if not (where / "line_start.q").exists():
                raise
        finally:
            if partial.exists():
                for leftover in partial.iterdir():
                    leftover.unlink()
                partial.rmdir()

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
        base = self.base
        oldest = {t.id: as_of - t.retention_days * DAY - base for t in catalog.ALL}
        lowest, highest, committed_by = start - base, end - base, as_of - base
        first = max(int(start // DAY), self.first_day)
        last = min(int(end // DAY), self.first_day + len(self._day_first) - 2)
        dates, commits, type_ids, line_start = self._date, self._commit, self._type, self._line_start
        ids, values, value_names, no_id = self._primary_id, self._primary_value, self._values, self._no_id
        for day in range(first, last + 1):
            lo, hi = self._day_first[day - self.first_day], self._day_first[day - self.first_day + 1]
            if lo == hi:
                continue
            offset = line_start[lo]
            data = os.pread(self._lines, line_start[hi] - offset, offset)
            chunks: list[bytes] = []
            count, run_start, run_end = 0, 0, 0
            for row in range(lo, hi):
                type_id = type_ids[row]
                if types is not None and type_id not in types:
                    continue
                date = dates[row]
                if not lowest <= date <= highest or commits[row] > committed_by or date < oldest[type_id]:
                    continue
                if primary_ids is not None:
                    primary_id = ids[row]
                    if (None if primary_id == no_id else primary_id) not in primary_ids:
                        continue
                if primary_values is not None and value_names[values[row]] not in primary_values:
                    continue
                count += 1
                line_from, line_to = line_start[row] - offset, line_start[row + 1] - offset
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
        base = self.base
        kept = {t.id: t.retention_days * DAY for t in catalog.ALL}
        streams = [self._from(type_id, after[0] - base) for type_id in types if type_id in self._type_ranges]
        found: list[Activity] = []
        for commit, row in heapq.merge(*streams):
            if commit + base > as_of:
                break
            if (commit + base, self._guid(row)) <= after or self._date[row] + base < as_of - kept[self._type[row]]:
                continue
            activity = self.activity(row)
            if wanted(activity):
                found.append(activity)
                if len(found) >= limit:
                    break
        return found

    def _from(self, type_id: int, commit: int) -> Iterator[tuple[int, int]]:
        """``(commit, row)`` of one type's rows from the first committed at ``commit`` on, in that order."""
        lo, hi = self._type_ranges[type_id]
        rows, commits = self._by_type, self._commit
        for position in range(bisect.bisect_left(rows, commit, lo, hi, key=commits.__getitem__), hi):
            row = rows[position]
            yield commits[row], row

    def _guid(self, row: int) -> int:
        day = bisect.bisect_right(self._day_first, row) - 1
        return (self.first_day + day) * GUID_STRIDE + 1 + row - self._day_first[day]

    def activity(self, row: int) -> Activity:
        start = self._event_start[row]
        data = os.pread(self._events, self._event_start[row + 1] - start, start)
        return Activity(self._guid(row), self._commit[row] + self.base, Event(*marshal.loads(data)))

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
        base = first_day * DAY
        names = ("date", "commit", "type", "primary_id", "primary_value", "line_start", "event_start", "day_first")
        made = {name: array("q") for name in names}
        dates, commits, type_ids = made["date"], made["commit"], made["type"]
        primary_ids, primary_values = made["primary_id"], made["primary_value"]
        line_start, event_start, day_first = made["line_start"], made["event_start"], made["day_first"]
        value_index: dict[str | None, int] = {None: 0}
        no_id = _WIDE_NO_ID
        line_at = event_at = 0
        with (directory / "lines.bin").open("wb") as lines, (directory / "events.bin").open("wb") as events:
            for expected, (day, activities) in enumerate(days, first_day):
                if day != expected:
                    raise ValueError(f"day {day} where day {expected} was expected")
                day_first.append(len(dates))
                day_lines, day_events = [], []
                for number, activity in enumerate(activities, day * GUID_STRIDE + 1):
                    event = activity.event
                    if activity.guid != number:
                        raise ValueError(f"activity {activity.guid} where {number} was expected")
                    line = render_line(activity)
                    packed = marshal.dumps(
                        (event.t, event.type_id, event.lead, event.primary_id, event.primary_value,
                         event.attributes, event.campaign, event.effect, event.subject)
                    )  # fmt: skip
                    day_lines.append(line)
                    day_events.append(packed)
                    dates.append(event.t - base)
                    commits.append(activity.commit - base)
                    type_ids.append(event.type_id)
                    primary_ids.append(no_id if event.primary_id is None else event.primary_id)
                    primary_values.append(value_index.setdefault(event.primary_value, len(value_index)))
                    line_start.append(line_at)
                    event_start.append(event_at)
                    line_at += len(line)
                    event_at += len(packed)
                lines.write(b"".join(day_lines))
                events.write(b"".join(day_events))
            day_first.append(len(dates))
            line_start.append(line_at)
            event_start.append(event_at)
        if all(-(2**31) < i < 2**31 for i in primary_ids if i != _WIDE_NO_ID):
            no_id = _NARROW_NO_ID
            made["primary_id"] = array("q", (no_id if i == _WIDE_NO_ID else i for i in primary_ids))
        stored = {name: _narrowest(values, name == "primary_id") for name, values in made.items()}
        ranges, stored["by_type"] = _by_type(stored["type"], stored["commit"])
        for name, values in stored.items():
            with (directory / f"{name}.{values.typecode}").open("wb") as file:
                values.tofile(file)
        meta: dict[str, Any] = {
            "first_day": first_day,
            "rows": len(dates),
            "no_id": no_id,
            "typecodes": {name: values.typecode for name, values in stored.items()},
            "lengths": {name: len(values) for name, values in stored.items()},
            "primary_values": list(value_index),
            "by_type": ranges,
        }
        (directory / "meta.json").write_text(json.dumps(meta))


def _narrowest(values: array[int], signed: bool) -> array[int]:
    """``values`` in 32 bits when they fit, else 64."""
    narrow, wide = _SIGNED if signed else _UNSIGNED
    low, high = (min(values), max(values)) if values else (0, 0)
    if not signed and low < 0:
        raise ValueError("the world begins before the first prepared day")
    fits = (low >= -(2**31) and high < 2**31) if signed else high < 2**32
    return array(narrow if fits else wide, values)


def _by_type(type_ids: array[int], commits: array[int]) -> tuple[dict[str, list[int]], array[int]]:
    """Rows grouped by type, each group ordered by ``(commit, row)``: rows grow with marketoGUID, so this is the
    order of ``(commit time, marketoGUID)`` that REST pages follow. Returns each type's range and the rows."""
    if len(type_ids) >= _ROW_LIMIT:
        raise ValueError("the world is too large to prepare")
    grouped: dict[int, list[int]] = {}
    for row, (type_id, commit) in enumerate(zip(type_ids, commits, strict=True)):
        grouped.setdefault(type_id, []).append(commit * _ROW_LIMIT + row)
    ranges: dict[str, list[int]] = {}
    rows = array("I")
    for type_id, keys in grouped.items():
        keys.sort()
        ranges[str(type_id)] = [len(rows), len(rows) + len(keys)]
        rows.extend(key % _ROW_LIMIT for key in keys)
    return ranges, rows
