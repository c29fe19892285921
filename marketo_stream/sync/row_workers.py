"""Bulk activity rows read, converted and encoded by worker processes; produced and committed by the sync alone.

A sync is one Python process, and reading, converting and encoding a bulk row costs several times what producing
it does, so on a machine with more than one core the rows of a large export file are spread over worker
processes (``sync.row_workers``, one per core by default; 1 keeps everything in the sync process):

- the sync process cuts the file into byte spans of whole records (``record_spans``: cuts at line ends after an
  even number of quotes, each checked by the worker that reads the span before it) and hands them out in order;
- a worker reads its span exactly as the sync would (``ChunkRows``), converts each row with the table's converter
  and encodes it with the sink's ``RecordEncoding`` (schema ids known up front), and sends back, per row, the
  columns the sync still reads itself (GUID, date, type; lead and primary attribute where the row feeds effects,
  attributes only where an effect reads them), the framed key and value and the record timestamp, in file order,
  malformed rows apart with their places; the sync process reads a span's rows as one list;
- the sync process runs the same loop over them as over rows it read itself (``ActivityPhase._publish``): one
  transactional producer, records and the state saying they are done in one transaction, records in file order,
  so topic content is byte for byte what the single-process path publishes.

A worker that dies (killed, out of memory), even halfway through handing back a span, ends the run with
``RowWorkerError`` before anything else is produced (``worker_pipes``: one pipe per worker, so a death is seen):
the open transaction is aborted, so nothing of it is visible, and the next run resumes after the rows committed.
Files smaller than ``PARALLEL_MIN_BYTES`` are read in the sync process: starting workers would cost more.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import Any

from marketo_stream.activity_effects import ATTRIBUTES_READ
from marketo_stream.bulk.csvfile import (
    ByteSpan,
    ChunkBoundaryError,
    ChunkRows,
    ExportRows,
    Quarantine,
    QuarantinedRow,
    record_spans,
)
from marketo_stream.bulk.exporter import CompletedExport
from marketo_stream.errors import RowWorkerError
from marketo_stream.schema import ValueConversionError, ValuesConverter
from marketo_stream.sink import RecordEncoding, RecordEncodingError
from marketo_stream.sink.codec import TimedRecordEncoder
from marketo_stream.sync.published import PublishedTable
from marketo_stream.sync.worker_pipes import Ticket, WorkerDied, WorkerPipes
from marketo_stream.sync.writer import Writer
from marketo_stream.transform import ColumnPolicy, bulk_converter

log = logging.getLogger("marketo_stream.sync")

SPAN_BYTES = 1 << 21
"""Bytes of export file a worker reads at once: a few thousand rows, a few MB of results in flight per worker."""
PARALLEL_MIN_BYTES = 8 << 20
"""Smaller files are read in the sync process (an incremental window rarely needs workers started)."""
IN_FLIGHT_PER_WORKER = 2
"""Spans handed out ahead per worker: enough to keep them busy while the sync produces, few for memory."""
STANDARD_COLUMNS = ("marketoGUID", "activityDate", "activityTypeId")
EFFECT_COLUMNS = ("leadId", "primaryAttributeValueId")
"""The columns every effect reads; ``attributes`` only for the types of ``ATTRIBUTES_READ`` (a parsed attributes
object is most of what a row costs to hand back)."""
Publish = Callable[[Sequence[Any]], bool]
"""Publishes one row as a source gives it; True when the transaction is full (``Writer.upsert_values``)."""


def default_workers() -> int:
    """One per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def type_id_of(value: Any) -> int:
    """An activity type id; anything unreadable maps to -1, which no table has."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# -- what the sync process iterates ----------------------------------------------------------------------------


class InProcessRows:
    """The rows of an export read, converted and encoded in the sync process (``row_workers = 1``, small files)."""

    def __init__(self, rows: ExportRows, writer: Writer) -> None:
        self._rows, self._writer = rows, writer
        self.header = rows.header

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self._rows)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return self._rows.row(values)

    def publisher(self, table: PublishedTable) -> Publish:
        convert, upsert = table.values_converter(self._rows.header, self._rows.json_columns), self._writer.upsert_values

        def publish(values: Sequence[Any]) -> bool:
            return upsert(table, convert(values))

        return publish


@dataclass(frozen=True, slots=True)
class _Failure:
    """Where a row's key would be: why it has none (raised in the sync process, at the row's place)."""

    row: dict[str, Any]
    conversion: ValueConversionError | None
    encoding: str | None

    def error(self, table: str) -> Exception:
        return self.conversion if self.conversion is not None else RecordEncodingError(table, str(self.encoding))


class ParallelRows:
    """The rows of an export read, converted and encoded by the workers, handed back in file order. Each row is a
    list in header order holding only the columns the sync reads (the others None), then key, value and timestamp
    (a ``_Failure`` in the key's place when the row did not convert or encode)."""

    def __init__(self, pool: RowWorkers, export: CompletedExport, quarantine: Quarantine, collect: frozenset[int]):
        self._pool, self._export, self._quarantine = pool, export, quarantine
        head = ExportRows(export.path, quarantine=quarantine)  # a bad header raises here, as in the sync process
        self.header = head.header
        self._json_columns = head.json_columns
        self._start = _byte_after_lines(export.path, head.header_lines)
        self._first_line = head.header_lines + 1
        self._task = _FileTask(export.path, self.header, self._json_columns, collect)
        self._key_at = len(self.header)

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        failure = values[self._key_at]
        assert isinstance(failure, _Failure), "only a row that failed is asked for as a dict"
        return failure.row

    def publisher(self, table: PublishedTable) -> Publish:
        upsert, name, key_at = self._pool.writer.upsert_encoded, table.name, self._key_at

        def publish(values: Sequence[Any]) -> bool:
            key = values[key_at]
            if key.__class__ is bytes:
                return upsert(table, key, values[key_at + 1], values[key_at + 2])
            raise key.error(name)

        return publish

    def __iter__(self) -> Iterator[list[Any]]:
        return chain.from_iterable(self._spans())  # the rows of a span handed on in C, not through a generator

    def _spans(self) -> Iterator[Iterable[list[Any]]]:
        """Each span's rows, in file order."""
        if self._start is None:
            return
        pool, task, quarantine, path = self._pool, self._task, self._quarantine, self._export.path
        spans = record_spans(path, self._start, self._first_line, SPAN_BYTES)
        pending: deque[tuple[ByteSpan, Ticket]] = deque()
        counted = 0
        while True:
            while len(pending) < pool.in_flight and (span := next(spans, None)) is not None:
                pending.append((span, pool.submit(task, span)))
            if not pending:
                break
            span, ticket = pending.popleft()
            result = pool.result(ticket, span)
            if result is not None:
                counted += result.counted
                yield _interleaved(result, quarantine) if result.quarantined else result.rows
                continue
            # the span ended inside a record (stray quotes): the file from its start on, read here in one piece;
            # the workers' answers for later spans are passed over when their pipes are next read
            log.info("%s: stray quotes; rows from line %d on are read in the sync process", path.name,
                     span.first_line)  # fmt: skip
            rest = ByteSpan(span.start, path.stat().st_size, span.first_line, True)
            read: list[int] = []
            yield _streamed(pool.local_reader().items(task, rest), quarantine, read)
            counted += sum(read)  # chain has read the stream to its end before asking for more
            break
        self._check_count(counted)

    def _check_count(self, counted: int) -> None:
        expected = self._export.number_of_records or None
        if expected is not None and counted != expected:
            log.warning("%s: %d records read where Marketo reported %d", self._export.path.name, counted, expected)


def _streamed(items: Generator[Any, None, int], quarantine: Quarantine, read: list[int]) -> Iterator[list[Any]]:
    """The rows of ``_SpanReader.items`` as they come, the quarantined ones to ``quarantine``; the records read are
    appended to ``read`` at the end."""
    while True:
        try:
            item = next(items)
        except StopIteration as stop:
            read.append(stop.value)
            return
        if item.__class__ is QuarantinedRow:
            quarantine(item)
        else:
            yield item


def _interleaved(result: _SpanResult, quarantine: Quarantine) -> Iterator[list[Any]]:
    """A span's rows, its quarantined rows going to ``quarantine`` at their place among them."""
    rows, done = result.rows, 0
    for before, item in result.quarantined:
        yield from rows[done:before]
        done = before
        quarantine(item)
    yield from rows[done:]


def _byte_after_lines(path: Path, lines: int) -> int | None:
    """The offset just after the ``lines``-th line end (where the header ends); None when the file has no more."""
    with path.open("rb") as handle:
        data, found, at = b"", 0, 0
        while found < lines:
            block = handle.read(1 << 16)
            if not block:
                return None
            data += block
            while found < lines:
                end = data.find(b"\n", at)
                if end < 0:
                    break
                found, at = found + 1, end + 1
        return at if at < path.stat().st_size else None


# -- the pool ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipe:
    """What a worker needs to convert and encode one activity type's rows, as plain data."""

    table: str
    source_schema: Mapping[str, Any]
    policy: ColumnPolicy
    encoding: RecordEncoding


@dataclass(frozen=True)
class _FileTask:
    path: Path
    header: tuple[str, ...]
    json_columns: tuple[str, ...]
    collect: frozenset[int]


@dataclass(frozen=True)
class _SpanResult:
    rows: list[Any]
    """In file order."""
    quarantined: list[tuple[int, QuarantinedRow]]
    """Each with the number of rows before it (apart from the rows, so that a span without any is handed on as one
    list)."""
    counted: int


class RowWorkers:
    """The activity phase's row workers: started at the first large file, stopped when the phase ends."""

    def __init__(self, writer: Writer, tables: Mapping[int, PublishedTable | None], workers: int) -> None:
        self.writer = writer
        self.workers = workers
        self.in_flight = workers * IN_FLIGHT_PER_WORKER
        self._recipes = _recipes(writer, tables) if workers > 1 else None
        self._pipes: WorkerPipes[tuple[_FileTask, ByteSpan], _SpanResult] | None = None
        self._local: _SpanReader | None = None

    def rows(
        self, export: CompletedExport, quarantine: Quarantine, collect: frozenset[int]
    ) -> InProcessRows | ParallelRows:
        """The rows of a completed export, from the workers when they pay off."""
        if self._recipes is None or export.file_size < PARALLEL_MIN_BYTES:
            return InProcessRows(export.rows(quarantine), self.writer)
        return ParallelRows(self, export, quarantine, collect)

    def submit(self, task: _FileTask, span: ByteSpan) -> Ticket:
        if self._pipes is None:
            assert self._recipes is not None, "parallel rows only with recipes"
            self._pipes = WorkerPipes(self.workers, _start_worker, self._recipes, name="row worker")
        try:
            return self._pipes.submit((task, span))
        except WorkerDied as exc:
            raise self._crashed(exc, span) from exc

    def result(self, ticket: Ticket, span: ByteSpan) -> _SpanResult | None:
        """The span's rows; None when it ended inside a record."""
        assert self._pipes is not None
        try:
            return self._pipes.result(ticket)
        except WorkerDied as exc:
            raise self._crashed(exc, span) from exc
        except ChunkBoundaryError:
            return None

    def local_reader(self) -> _SpanReader:
        assert self._recipes is not None
        if self._local is None:
            self._local = _SpanReader(self._recipes)
        return self._local

    def _crashed(self, died: WorkerDied, span: ByteSpan) -> RowWorkerError:
        self.close()
        why = "killed, or out of memory" if died.killed else "its error is above"
        return RowWorkerError(
            f"a row worker process ended unexpectedly ({died}: {why}) while reading the export "
            f"from line {span.first_line} on; the open transaction is aborted and the next run resumes after the rows "
            f"committed (sync.row_workers = 1 reads rows in the sync process)"
        )

    def close(self) -> None:
        pipes, self._pipes = self._pipes, None
        if pipes is not None:
            pipes.close()

    def __enter__(self) -> RowWorkers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _recipes(writer: Writer, tables: Mapping[int, PublishedTable | None]) -> dict[int, _Recipe | None] | None:
    """Per activity type, what a worker needs; None when the sink cannot encode elsewhere (the memory sink)."""
    encodings = writer.record_encodings()
    if encodings is None:
        return None
    recipes: dict[int, _Recipe | None] = {}
    for type_id, table in tables.items():
        if table is None:
            recipes[type_id] = None
            continue
        encoding = encodings.get(table.name)
        if encoding is None:
            return None
        recipes[type_id] = _Recipe(table.name, table.source.value_schema, table.policy, encoding)
    return recipes


# -- in a worker -------------------------------------------------------------------------------------------------


def _start_worker(recipes: dict[int, _Recipe | None]) -> Callable[[tuple[_FileTask, ByteSpan]], _SpanResult]:
    """A worker's handler: reads the spans it is handed with one ``_SpanReader``."""
    reader = _SpanReader(recipes)

    def read_span(work: tuple[_FileTask, ByteSpan]) -> _SpanResult:
        items = reader.items(*work)
        rows: list[Any] = []
        quarantined: list[tuple[int, QuarantinedRow]] = []
        while True:
            try:
                item = next(items)
            except StopIteration as stop:
                return _SpanResult(rows, quarantined, int(stop.value))
            if item.__class__ is QuarantinedRow:
                quarantined.append((len(rows), item))
            else:
                rows.append(item)

    return read_span


@dataclass(slots=True)
class _Route:
    convert: ValuesConverter | None
    encode: TimedRecordEncoder | None
    blank: tuple[int, ...]
    """Columns the sync process does not read for this type: sent as None."""
    type_text: Any
    """The type column's text, one object for every row of the type: pickled once per span, then referred to."""


_NOTHING = (None, None, None)


class _SpanReader:
    """Reads spans of export files into rows the sync process publishes; one per worker (and one in the sync
    process for files with stray quotes)."""

    def __init__(self, recipes: Mapping[int, _Recipe | None]) -> None:
        self._recipes = recipes
        self._routes: dict[tuple[tuple[str, ...], frozenset[int]], dict[str | None, _Route]] = {}
        self._encoders: dict[str, TimedRecordEncoder] = {}

    def items(self, task: _FileTask, span: ByteSpan) -> Generator[Any, None, int]:
        """The span's rows, as ``ParallelRows`` hands them out, and its quarantined rows, in file order; returns the
        records read. Raises ``ChunkBoundaryError`` when the span ended inside a record."""
        held: list[QuarantinedRow] = []
        rows = ChunkRows(task.path, task.header, span, quarantine=held.append, json_columns=task.json_columns)
        routes = self._routes.setdefault((task.header, task.collect), {})
        type_at = task.header.index("activityTypeId") if "activityTypeId" in task.header else None
        for values in rows:
            if held:
                yield from held
                held.clear()
            type_text = None if type_at is None else values[type_at]
            route = routes.get(type_text)
            if route is None:
                route = routes[type_text] = self._route(task, type_text)
            convert, encode = route.convert, route.encode
            outcome: tuple[Any, Any, Any] = _NOTHING
            if convert is not None and encode is not None:
                try:
                    outcome = encode(convert(values))
                except ValueConversionError as exc:
                    outcome = (_Failure(rows.row(values), exc, None), None, None)
                except (TypeError, ValueError, KeyError, AttributeError) as exc:
                    outcome = (_Failure(rows.row(values), None, f"{type(exc).__name__}: {exc}"), None, None)
            for index in route.blank:
                values[index] = None
            if type_at is not None:
                values[type_at] = route.type_text
            values += outcome
            yield values
        yield from held
        return rows.counted

    def _route(self, task: _FileTask, type_text: Any) -> _Route:
        type_id = type_id_of(type_text)
        header = task.header
        kept: tuple[str, ...] = STANDARD_COLUMNS
        if type_id in task.collect:
            kept += EFFECT_COLUMNS + (("attributes",) if type_id in ATTRIBUTES_READ else ())
        blank = tuple(index for index, name in enumerate(header) if name not in kept)
        recipe = self._recipes.get(type_id)
        if recipe is None:
            return _Route(None, None, blank, type_text)
        encode = self._encoders.get(recipe.table)
        if encode is None:
            encode = self._encoders[recipe.table] = recipe.encoding.encoder()
        convert = bulk_converter(recipe.source_schema, recipe.policy, header, task.json_columns)
        return _Route(convert, encode, blank, type_text)
