"""The bulk reader as it was before chunked decoding, kept as the oracle the fast reader must agree with: every
physical line decoded on its own, one record object per row, the json module for JSON cells."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketo_stream.bulk.csvfile import Quarantine, QuarantinedRow
from marketo_stream.bulk.errors import MalformedRowError


@dataclass(slots=True)
class _Record:
    line: int
    fields: list[str] | None
    problem: str | None


class _Lines:
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


def _records(path: Path) -> Iterator[_Record]:
    with path.open("rb") as handle:
        lines = _Lines(iter(handle))
        reader = csv.reader(lines)
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


def _json_object(raw: str) -> dict[str, Any]:
    parsed = json.loads(raw)
    if isinstance(parsed, list) and all(isinstance(i, dict) and "name" in i for i in parsed):
        parsed = {item["name"]: item.get("value") for item in parsed}
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


def read_rows_line_by_line(path: Path, quarantine: Quarantine) -> Iterator[dict[str, Any]]:
    header: list[str] | None = None
    for record in _records(path):
        if header is None:
            if record.fields is None or record.problem:
                raise MalformedRowError(path, record.line, f"unreadable header: {record.problem}")
            header = record.fields
            continue
        fields = tuple(record.fields) if record.fields is not None else None
        if record.problem or record.fields is None:
            quarantine(QuarantinedRow(path, record.line, record.problem or "unreadable row", fields))
            continue
        if len(record.fields) != len(header):
            reason = f"{len(record.fields)} columns where the header has {len(header)}"
            quarantine(QuarantinedRow(path, record.line, reason, fields))
            continue
        row = {name: None if raw in ("", "null") else raw for name, raw in zip(header, record.fields, strict=True)}
        if row.get("attributes") is not None:
            try:
                row["attributes"] = _json_object(row["attributes"])
            except ValueError as exc:
                quarantine(
                    QuarantinedRow(path, record.line, f"column 'attributes' is not a JSON object: {exc}", fields)
                )
                continue
        yield row
