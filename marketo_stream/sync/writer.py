"""Records and the state that says they are done, committed together in chunked Kafka transactions.

Callers publish rows, update their progress, and call ``checkpoint`` with a function that builds the state
documents describing what has been written so far; when the open transaction holds ``rows_per_transaction``
records, those states are added and it commits. A crash between checkpoints loses only uncommitted work,
which the state, read back on restart, says to redo.

The writer also keeps what its commits cost, for the run summary (and so the metrics): how long each commit
took, and the records and serialized bytes committed per topic.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from marketo_stream.sink import RecordEncoding
from marketo_stream.sink.protocol import Sink, SinkBatch
from marketo_stream.sync.published import PublishedTable, Row
from marketo_stream.sync.rejected import REJECTED_TABLE

States = Mapping[str, Mapping[str, Any] | None]


class Writer:
    def __init__(self, sink: Sink, rows_per_transaction: int, *, also: Callable[[], States] | None = None) -> None:
        """``also`` builds state documents that go with every commit (a commit's own documents win)."""
        self._sink = sink
        self._also = also
        self._limit = rows_per_transaction
        self._open: AbstractContextManager[SinkBatch] | None = None
        self._batch: SinkBatch | None = None
        self._pending = 0
        self.commit_seconds: list[float] = []
        """How long each commit took (the sink's commit call, records already produced)."""
        self.committed_bytes: Counter[str] = Counter()
        """Serialized bytes (key and value) committed, per topic, when the sink reports them."""
        self.committed_records = 0
        """Records and tombstones committed so far, state records left out."""

    def _current(self) -> SinkBatch:
        if self._batch is None:
            self._open = self._sink.transaction()
            self._batch = self._open.__enter__()
        return self._batch

    def live_keys(self, table: PublishedTable) -> list[Row]:
        """Keys of the table whose last committed record is not a tombstone, read back from its topic."""
        return self._sink.live_keys(table.name)

    def upsert_row(self, table: PublishedTable, marketo_row: Mapping[str, Any]) -> Row:
        """Converts, applies column policies and publishes one Marketo row; returns its published key."""
        value = table.convert(marketo_row)
        key = table.key_of(value)
        self._current().upsert(table.name, key, value)
        self._pending += 1
        return key

    def upsert_values(self, table: PublishedTable, values: Sequence[Any]) -> bool:
        """Publishes Avro-ready values in the order of the table's published fields, as ``table.values_converter``
        gives them (the bulk path: no dict per row). True when the transaction is full: only then has a
        ``checkpoint`` anything to do, so a loop over a million rows calls it only then."""
        batch = self._batch or self._current()
        batch.upsert_values(table.name, values)
        self._pending += 1
        return self._pending >= self._limit

    def record_encodings(self) -> Mapping[str, RecordEncoding] | None:
        """How the sink encodes each table's records, for encoding them in another process (None: it cannot)."""
        return self._sink.record_encodings()

    def upsert_encoded(self, table: PublishedTable, key: bytes, value: bytes, timestamp: int) -> bool:
        """``upsert_values`` for a record encoded elsewhere with the table's ``RecordEncoding``."""
        batch = self._batch or self._current()
        batch.upsert_encoded(table.name, key, value, timestamp)
        self._pending += 1
        return self._pending >= self._limit

    def upsert(self, table: PublishedTable, key: Row, value: Row) -> None:
        """Publishes an already converted value under its key."""
        self._current().upsert(table.name, key, value)
        self._pending += 1

    def reject(self, key: Row, value: Row) -> None:
        """A dead-letter record (``sync.rejected``), in the open transaction with the records of its window."""
        self._current().upsert(REJECTED_TABLE, key, value)
        self._pending += 1

    def delete(self, table: PublishedTable, key: Row, *, published_key: bool = False) -> None:
        """A tombstone; ``key`` holds Avro-ready values before hashing, or as published when ``published_key``."""
        self._current().delete(table.name, key if published_key else table.hash_key(key))
        self._pending += 1

    def checkpoint(self, states: Callable[[], States]) -> bool:
        """Commits with the states ``states()`` builds when the transaction is full; True when it committed.

        ``states`` is called only then: callers checkpoint after every row, and building a state document per
        row would cost more than the row itself.
        """
        if self._pending < self._limit:
            return False
        self.commit(states())
        return True

    def commit(self, states: States) -> None:
        """Commits the open transaction (if any, or if there are states to write) with ``states``."""
        if self._batch is None and not states:
            return
        if self._also is not None:
            states = {**self._also(), **states}
        batch = self._current()
        for key, doc in states.items():
            batch.put_state(key, doc)
        self._close(None, None, None)

    def _close(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        opened, batch = self._open, self._batch
        self._open, self._batch, self._pending = None, None, 0
        if opened is None:
            return
        if kind is not None or batch is None:
            opened.__exit__(kind, exc, tb)
            return
        counts = batch.counts
        started = time.monotonic()
        opened.__exit__(None, None, None)
        self.commit_seconds.append(time.monotonic() - started)
        state_topic = self._sink.config.state_topic_name
        for topic, figures in counts.items():
            if topic == state_topic:
                continue
            self.committed_records += figures.get("records", 0) + figures.get("tombstones", 0)
            self.committed_bytes[topic] += figures.get("bytes", 0)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            self._close(kind, exc, tb)
        elif self._batch is not None:
            raise RuntimeError("records left uncommitted: every phase must end with commit(states)")
