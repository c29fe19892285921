"""Half-open UTC time intervals and sets of them: what has been extracted, and what is still missing.

Windows finish out of order (two bulk slots, retries, splits), so "done" cannot be one cursor: it is a set
of intervals, merged as they complete. Marketo's bulk filters are inclusive at both ends; the conversion to
``endAt = end - 1 s`` happens where requests are built, never here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are taken as UTC (Marketo's rule for offset-less values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """ISO-8601, with Marketo's odd ``…Z+0000`` form and date-only strings accepted."""
    text = text.strip()
    if text.endswith("Z+0000"):
        text = text[:-5]
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        text += "T00:00:00+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return utc(datetime.fromisoformat(text))


def format_instant(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` and no fraction: what Marketo's filters accept."""
    return utc(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    """``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} .. {self.end}")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def is_empty(self) -> bool:
        return self.end <= self.start

    def intersection(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None

    def split_newest_first(self, size: timedelta) -> Iterator[Interval]:
        """Chunks of at most ``size``, from the end backwards; the oldest chunk may be shorter."""
        end = self.end
        while end > self.start:
            start = max(self.start, end - size)
            yield Interval(start, end)
            end = start

    def to_json(self) -> list[str]:
        return [format_instant(self.start), format_instant(self.end)]

    @classmethod
    def from_json(cls, pair: list[str]) -> Interval:
        return cls(parse_instant(pair[0]), parse_instant(pair[1]))

    def __str__(self) -> str:
        return f"{format_instant(self.start)}..{format_instant(self.end)}"


class IntervalSet:
    """A normalised (sorted, disjoint, non-adjacent) set of intervals."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Interval] = ()) -> None:
        self._items: list[Interval] = []
        for item in items:
            self.add(item)

    def add(self, new: Interval) -> None:
        if new.is_empty():
            return
        start, end = new.start, new.end
        kept: list[Interval] = []
        for item in self._items:
            if item.end < start or item.start > end:
                kept.append(item)
            else:
                start, end = min(start, item.start), max(end, item.end)
        kept.append(Interval(start, end))
        kept.sort()
        self._items = kept

    def covers(self, interval: Interval) -> bool:
        return any(item.start <= interval.start and interval.end <= item.end for item in self._items)

    def missing(self, span: Interval) -> list[Interval]:
        """The parts of ``span`` not in the set, oldest first."""
        gaps: list[Interval] = []
        cursor = span.start
        for item in self._items:
            if item.end <= cursor:
                continue
            if item.start >= span.end:
                break
            if item.start > cursor:
                gaps.append(Interval(cursor, item.start))
            cursor = max(cursor, item.end)
        if cursor < span.end:
            gaps.append(Interval(cursor, span.end))
        return gaps

    def intersection(self, other: IntervalSet) -> IntervalSet:
        """What both sets cover: a window counts as done for a group only when done for every member."""
        both: list[Interval] = []
        for mine in self._items:
            for theirs in other._items:
                common = mine.intersection(theirs)
                if common is not None:
                    both.append(common)
        return IntervalSet(both)

    def latest_end(self) -> datetime | None:
        return self._items[-1].end if self._items else None

    def earliest_start(self) -> datetime | None:
        return self._items[0].start if self._items else None

    def total(self) -> timedelta:
        return sum((item.length for item in self._items), timedelta())

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self._items == other._items

    def __repr__(self) -> str:
        return f"IntervalSet([{', '.join(str(i) for i in self._items)}])"

    def to_json(self) -> list[list[str]]:
        return [item.to_json() for item in self._items]

    @classmethod
    def from_json(cls, data: Iterable[list[str]]) -> IntervalSet:
        return cls(Interval.from_json(pair) for pair in data)
