"""Reading a Bulk Extract file row by row, in constant memory, without losing a row in silence.

Marketo's CSV: RFC 4180 quoting, ``null`` (or nothing) for empty values, values holding ``\\r\\n``, NUL
bytes, U+2028/U+2029 and cells of many megabytes, and an ``attributes`` column holding a JSON object.
The file is read as bytes split on ``\\n`` only (so Unicode line separators stay inside their value), NULs
are dropped, and the csv module joins the physical lines of a quoted value. A row that cannot be read
(wrong number of columns, bad JSON, invalid UTF-8) goes to the ``quarantine`` callback with file, line
and reason, or raises :class:`MalformedRowError` when there is none.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketo_stream.bulk.errors import MalformedRowError

csv.field_size_limit(2**31 - 1)

NULL = "null"
JSON_COLUMNS = ("attributes",)
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    file: Path
    line: int
    """Physical line (1-based) where the row starts."""
    reason: str
    fields: tuple[str, ...] | None


Quarantine = Callable[[QuarantinedRow], None]


@dataclass(slots=True)
class _Record:
    line: int
    fields: list[str] | None
    problem: str | None


class _Lines:
    """Decoded physical lines; remembers which ones were not valid UTF-8."""

    def __init__(self, raw: Iterator[bytes]) -> None:
        self._raw = raw
        self.number = 0
        self.bad: list[int] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._raw:
            self.number += 1
            if b"\x00" in line:
                line = line.replace(b"\x00", b"")
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.append(self.number)
                yield line.decode("utf-8", "replace")


def _records(path: Path, delimiter: str) -> Iterator[_Record]:
    with path.open("rb") as handle:
        lines = _Lines(iter(handle))
        reader = csv.reader(lines, delimiter=delimiter)
        start = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _Record(start, None, f"unreadable CSV: {exc}")
                start = lines.number + 1
                continue
            problem = None
            if lines.bad and lines.bad[-1] >= start:
                problem = "invalid UTF-8"
            lines.bad.clear()
            yield _Record(start, fields, problem)
            start = lines.number + 1


def _value(raw: str) -> str | None:
    return None if raw == "" or raw == NULL else raw


def _json_object(raw: str) -> dict[str, Any]:
    parsed = json.loads(raw)
    if isinstance(parsed, list) and all(isinstance(i, dict) and "name" in i for i in parsed):
        parsed = {item["name"]: item.get("value") for item in parsed}
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


def read_rows(
    path: Path,
    *,
    quarantine: Quarantine | None = None,
    delimiter: str = ",",
    json_columns: tuple[str, ...] = JSON_COLUMNS,
) -> Iterator[Row]:
    """Rows as ``{header: value}``; empty values are None and JSON columns are dicts."""

    def reject(record: _Record, reason: str) -> None:
        fields = tuple(record.fields) if record.fields is not None else None
        if quarantine is None:
            raise MalformedRowError(path, record.line, reason)
        quarantine(QuarantinedRow(path, record.line, reason, fields))

    records = _records(path, delimiter)
    header: list[str] | None = None
    for record in records:
        if header is None:
            if record.fields is None or record.problem:
                raise MalformedRowError(path, record.line, f"unreadable header: {record.problem}")
            header = record.fields
            parsed_columns = [i for i, name in enumerate(header) if name in json_columns]
            continue
        if record.problem or record.fields is None:
            reject(record, record.problem or "unreadable row")
            continue
        if len(record.fields) != len(header):
            reject(record, f"{len(record.fields)} columns where the header has {len(header)}")
            continue
        row: Row = {name: _value(raw) for name, raw in zip(header, record.fields, strict=True)}
        try:
            for index in parsed_columns:
                name = header[index]
                if row[name] is not None:
                    row[name] = _json_object(row[name])
        except ValueError as exc:
            reject(record, f"column {name!r} is not a JSON object: {exc}")
            continue
        yield row


def count_records(path: Path, *, delimiter: str = ",") -> int:
    """Data rows in the file as Marketo counts them (``numberOfRecords``): records after the header."""
    return max(0, sum(1 for _ in _records(path, delimiter)) - 1)
