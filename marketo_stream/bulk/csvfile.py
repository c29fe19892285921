"""Reading a Bulk Extract file row by row, in constant memory, without losing a row in silence.

Marketo's CSV: RFC 4180 quoting, ``null`` (or nothing) for empty values, values holding ``\\r\\n``, NUL
bytes, U+2028/U+2029 and cells of many megabytes, and an ``attributes`` column holding a JSON object.
Records end at ``\\n`` only (so Unicode line separators stay inside their value), NULs are dropped, and the
csv module joins the physical lines of a quoted value. A row that cannot be read (wrong number of columns,
bad JSON, invalid UTF-8) goes to the ``quarantine`` callback with file, line and reason, or raises
:class:`MalformedRowError` when there is none.

The file is read in chunks of whole lines. A chunk that is valid UTF-8 without NULs (nearly all of them;
both are checked in C) is decoded at once and split into lines in C; any other chunk is read line by line,
so that NULs are dropped and each line that is not UTF-8 is known by number. JSON cells are parsed by
``jsontext.loads`` (msgspec, the json module for what it refuses).
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

from marketo_stream.bulk.errors import MalformedRowError
from marketo_stream.jsontext import loads

csv.field_size_limit(2**31 - 1)

NULL = "null"
JSON_COLUMNS = ("attributes",)
CHUNK_BYTES = 1 << 20
Row = dict[str, Any]
log = logging.getLogger("marketo_stream.bulk")


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    file: Path
    line: int
    """Physical line (1-based) where the row starts."""
    reason: str
    fields: tuple[str, ...] | None


Quarantine = Callable[[QuarantinedRow], None]


def _careful_lines(chunk: bytes, first: int, bad: list[int]) -> Iterator[str]:
    """A chunk's lines one by one: NULs dropped, invalid UTF-8 replaced and its line number kept in ``bad``."""
    for number, line in enumerate(io.BytesIO(chunk), first):
        if b"\x00" in line:
            line = line.replace(b"\x00", b"")
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
            yield line.decode("utf-8", "replace")


def _chunk_lines(handle: IO[bytes], bad: list[int], lines_before: int = 0) -> Iterator[Iterator[str]]:
    """Per chunk of whole lines, an iterator over its decoded lines (each ending in ``\\n`` but the file's last);
    ``lines_before``: lines of the file before the handle's first."""
    pending: list[bytes] = []
    while True:
        block = handle.read(CHUNK_BYTES)
        if not block:
            chunk = b"".join(pending)
            if chunk:
                yield _decoded(chunk, lines_before + 1, bad)
            return
        cut = block.rfind(b"\n") + 1
        if not cut:
            pending.append(block)  # a line longer than a chunk: joined once its end is read
            continue
        chunk = b"".join([*pending, block[:cut]]) if pending else block[:cut]
        pending = [block[cut:]] if cut < len(block) else []
        yield _decoded(chunk, lines_before + 1, bad)
        lines_before += chunk.count(b"\n")


def _decoded(chunk: bytes, first: int, bad: list[int]) -> Iterator[str]:
    if b"\x00" not in chunk:
        try:
            return io.StringIO(chunk.decode("utf-8"), newline="\n")  # lines end at \n only, kept as they are
        except UnicodeDecodeError:
            pass
    return _careful_lines(chunk, first, bad)


def _json_object(raw: str) -> dict[str, Any]:
    parsed = loads(raw)
    if parsed.__class__ is dict:
        return parsed
    if isinstance(parsed, list) and all(isinstance(i, dict) and "name" in i for i in parsed):
        parsed = {item["name"]: item.get("value") for item in parsed}
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


def _value(raw: Any) -> Any:
    return None if raw == "" or raw == NULL else raw


class ExportRows:
    """The rows of one export file as lists in header order, the cheap way to read a large file.

    Each value is the CSV text (``""`` and ``null`` both meaning no value), except in the JSON columns, which
    hold the parsed object, or None. ``header`` is read at once (a file without one has an empty header);
    rows are read as they are iterated, once. ``row`` turns a list into the dict ``read_rows`` gives.
    ``expected_records`` (Marketo's ``numberOfRecords``) is compared with the records read once the last one is
    read, and a difference logged: the file verified, so the rows it holds are the ones to publish.
    """

    def __init__(
        self,
        path: Path,
        *,
        quarantine: Quarantine | None = None,
        delimiter: str = ",",
        json_columns: Iterable[str] = JSON_COLUMNS,
        expected_records: int | None = None,
    ) -> None:
        self.path = path
        self._quarantine = quarantine
        self._expected = expected_records
        self.header_lines = 0
        """Physical lines the header took (set once it is read)."""
        self._rows = self._read(delimiter, frozenset(json_columns))
        self.header: tuple[str, ...] = tuple(next(self._rows, ()))
        self.json_columns = tuple(name for name in self.header if name in json_columns)

    def __iter__(self) -> Iterator[list[Any]]:
        return self._rows

    def row(self, values: Sequence[Any]) -> Row:
        """``{header: value}`` with None for no value: the row as ``read_rows`` gives it."""
        return {name: _value(raw) for name, raw in zip(self.header, values, strict=True)}

    def _read(self, delimiter: str, json_columns: frozenset[str]) -> Iterator[list[Any]]:
        """The header, then every row that is readable; the others go to the quarantine."""
        bad: list[int] = []
        with self.path.open("rb") as handle:
            reader = csv.reader(chain.from_iterable(_chunk_lines(handle, bad)), delimiter=delimiter)
            try:
                header = next(reader, None)
            except csv.Error as exc:
                raise MalformedRowError(self.path, 1, f"unreadable header: unreadable CSV: {exc}") from exc
            if header is None:
                return
            if bad:
                raise MalformedRowError(self.path, 1, "unreadable header: invalid UTF-8")
            self.header_lines = reader.line_num
            yield header
            records = _Records(self.path, tuple(header), json_columns, self._quarantine)
            yield from records.read(reader, bad, 0)
            if self._expected is not None and records.counted != self._expected:
                log.warning("%s: %d records read where Marketo reported %d", self.path.name, records.counted,
                            self._expected)  # fmt: skip


CHUNK_END = "\ue000marketo-stream chunk end\ue000"
"""The line ``ChunkRows`` reads after a chunk: read as a record of its own only when the chunk ended where a record
ends (a chunk cut inside a quoted value makes it part of that value instead)."""


class ChunkBoundaryError(Exception):
    """A chunk did not end where a record ends: its end was placed by quote parity in a file whose quotes break
    RFC 4180 (a quote inside an unquoted value). The file is read from the chunk's start in one piece instead."""


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """Whole records of an export file: bytes ``start`` to ``end``, starting at physical line ``first_line``."""

    start: int
    end: int
    first_line: int
    last: bool
    """The file's last span: read to its end, with nothing after it to check."""


def record_spans(path: Path, start: int, first_line: int, span_bytes: int) -> Iterator[ByteSpan]:
    """Cuts the records from byte ``start`` (a record's start, at physical line ``first_line``) into spans of about
    ``span_bytes``, each ending at a ``\\n`` after an even number of quote characters since the span's start: in
    RFC 4180 CSV, which Marketo writes, those are exactly the line ends that end a record (a quoted value holding
    line breaks holds an odd count of quotes before each of them). ``ChunkRows`` checks every cut as it reads
    the span before it (``CHUNK_END``), so a file with stray quotes is still read as one reader reads it."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(start)
        pending = b""
        while True:
            block = handle.read(span_bytes)
            data = pending + block if pending else block
            if not block:
                if data:
                    yield ByteSpan(start, size, first_line, True)
                return
            cut = _even_cut(data)
            if cut == 0:
                pending = data  # no cut yet: a record (or a quoted value) longer than a span
                continue
            yield ByteSpan(start, start + cut, first_line, start + cut == size)
            if start + cut == size:
                return
            first_line += data.count(b"\n", 0, cut)
            start += cut
            pending = data[cut:]


def _even_cut(data: bytes) -> int:
    """The length of the longest prefix of ``data`` that ends at a ``\\n`` after an even number of quotes; 0 when
    there is none."""
    quotes = data.count(b'"')
    end = len(data)
    while True:
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return 0
        quotes -= data.count(b'"', at, end)
        if quotes % 2 == 0:
            return at + 1
        end = at


class ChunkRows:
    """The rows of one ``ByteSpan`` of an export file, read as ``ExportRows`` reads them (same values, same
    quarantined rows and line numbers), given the file's header. Raises ``ChunkBoundaryError`` when the span
    did not end where a record ends. ``counted`` is the records read, once iterated."""

    def __init__(
        self,
        path: Path,
        header: tuple[str, ...],
        span: ByteSpan,
        *,
        quarantine: Quarantine | None = None,
        delimiter: str = ",",
        json_columns: Iterable[str] = JSON_COLUMNS,
    ) -> None:
        self.path, self.header, self.span = path, header, span
        self._records = _Records(path, header, frozenset(json_columns), quarantine, check_end=not span.last)
        self._delimiter = delimiter

    @property
    def counted(self) -> int:
        return self._records.counted

    def row(self, values: Sequence[Any]) -> Row:
        return {name: _value(raw) for name, raw in zip(self.header, values, strict=True)}

    def __iter__(self) -> Iterator[list[Any]]:
        span = self.span
        with self.path.open("rb") as handle:
            data = os.pread(handle.fileno(), span.end - span.start, span.start)
        bad: list[int] = []
        lines: Iterable[str] = chain.from_iterable(_chunk_lines(io.BytesIO(data), bad, span.first_line - 1))
        if not span.last:
            lines = chain(lines, (CHUNK_END + "\n",))
        reader = csv.reader(lines, delimiter=self._delimiter)
        return self._records.read(reader, bad, span.first_line - 1)


class _Records:
    """The loop that reads records, shared by ``ExportRows`` and ``ChunkRows``: it runs once per row of every
    export, so it is kept in one piece."""

    def __init__(
        self,
        path: Path,
        header: tuple[str, ...],
        json_columns: frozenset[str],
        quarantine: Quarantine | None,
        *,
        check_end: bool = False,
    ) -> None:
        self.path, self.header, self._quarantine = path, header, quarantine
        self.parsed = [index for index, name in enumerate(header) if name in json_columns]
        self.counted = 0
        self.check_end = check_end and len(header) != 1  # CHUNK_END is a record of one column

    def read(self, reader: Any, bad: list[int], lines_before: int) -> Iterator[list[Any]]:
        """Every readable record of ``reader``; the others go to ``_reject``. ``lines_before``: physical lines of
        the file before the reader's first (line numbers in ``bad`` count them)."""
        width = len(self.header)
        parsed = self.parsed
        single = parsed[0] if len(parsed) == 1 else -1  # the usual case, read inline below
        end = lines_before + reader.line_num  # the physical line where the last record ended
        decode, null = loads, NULL
        records: Iterator[list[Any]] = reader  # JSON cells are replaced by objects in place
        ended = not self.check_end
        while True:
            try:
                for fields in records:
                    self.counted += 1
                    line, end = end + 1, lines_before + reader.line_num
                    if bad:
                        invalid = bad[-1] >= line
                        bad.clear()
                        if invalid:
                            self._reject(line, "invalid UTF-8", fields)
                            continue
                    if len(fields) != width:
                        if not ended and len(fields) == 1 and fields[0] == CHUNK_END:
                            self.counted -= 1
                            ended = next(records, None) is None
                            break
                        self._reject(line, f"{len(fields)} columns where the header has {width}", fields)
                        continue
                    if single >= 0:
                        raw = fields[single]
                        if raw == "" or raw == null:
                            fields[single] = None
                            yield fields
                            continue
                        try:
                            value = decode(raw)
                        except ValueError:  # not JSON: _parse_json below rejects the row, naming the fault
                            value = None
                        if value.__class__ is dict:
                            fields[single] = value
                            yield fields
                            continue
                    if parsed and not self._parse_json(line, fields, parsed):
                        continue
                    yield fields
                if not ended:
                    raise ChunkBoundaryError(f"{self.path.name}: a chunk ended inside a record (line {end})")
                return
            except csv.Error as exc:
                self.counted += 1
                line, end = end + 1, lines_before + reader.line_num
                bad.clear()
                self._reject(line, f"unreadable CSV: {exc}", None)

    def _parse_json(self, line: int, fields: list[Any], parsed: list[int]) -> bool:
        """Replaces the JSON columns' text by objects; False (the row rejected) when one is not a JSON object."""
        values = []
        for index in parsed:
            raw = fields[index]
            try:
                values.append(None if raw == "" or raw == NULL else _json_object(raw))
            except ValueError as exc:
                self._reject(line, f"column {self.header[index]!r} is not a JSON object: {exc}", fields)
                return False
        for index, value in zip(parsed, values, strict=True):
            fields[index] = value
        return True

    def _reject(self, line: int, reason: str, fields: Iterable[Any] | None) -> None:
        if self._quarantine is None:
            raise MalformedRowError(self.path, line, reason)
        self._quarantine(QuarantinedRow(self.path, line, reason, tuple(fields) if fields is not None else None))


def read_rows(
    path: Path,
    *,
    quarantine: Quarantine | None = None,
    delimiter: str = ",",
    json_columns: tuple[str, ...] = JSON_COLUMNS,
) -> Iterator[Row]:
    """Rows as ``{header: value}``; empty values are None and JSON columns are dicts."""
    rows = ExportRows(path, quarantine=quarantine, delimiter=delimiter, json_columns=json_columns)
    for values in rows:
        yield rows.row(values)


def count_records(path: Path, *, delimiter: str = ",") -> int:
    """Data rows in the file as Marketo counts them (``numberOfRecords``): records after the header."""
    count = 0
    with path.open("rb") as handle:
        reader = csv.reader(chain.from_iterable(_chunk_lines(handle, [])), delimiter=delimiter)
        while True:
            try:
                for _ in reader:
                    count += 1
                return max(0, count - 1)
            except csv.Error:
                count += 1
