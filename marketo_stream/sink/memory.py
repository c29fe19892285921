"""An in-memory sink that keeps what a read_committed consumer of Kafka would see, for tests of the sync phases.

Records of a transaction are held aside and appended to their tables' logs only when it commits; an aborted
transaction (the ``with`` block raised) leaves nothing, as in Kafka. State is last-write-wins per key, a
``None`` resets a key. Keys are the Avro-ready key dicts; values the Avro-ready value dicts, ``None`` for a
tombstone. Schemas are not registered anywhere: ``published_value_schema`` answers what ``prepare_all`` was given
(or what a test passes in ``published``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from marketo_stream.sink.config import SinkConfig, TableSchema
from marketo_stream.sink.errors import UnknownTableError
from marketo_stream.sink.topics import TopicPolicyMismatch

Key = dict[str, Any]
Value = dict[str, Any] | None


@dataclass(frozen=True)
class Committed:
    """One committed record of a table, or a state record (``table`` is None)."""

    table: str | None
    key: Any
    value: Any


@dataclass
class MemoryBatch:
    sink: MemorySink
    records: list[Committed] = field(default_factory=list)
    _tombstones: Counter[str] = field(default_factory=Counter)

    def upsert(self, table: str, key: Mapping[str, Any], value: Mapping[str, Any]) -> None:
        self.sink.schema(table)
        self.records.append(Committed(table, dict(key), dict(value)))

    def upsert_values(self, table: str, values: Sequence[Any]) -> None:
        schema = self.sink.schema(table)
        names = [f["name"] for f in schema.value_schema["fields"]]
        value = dict(zip(names, values, strict=False))
        key_names = [f["name"] for f in schema.key_schema["fields"]]
        if not all(name in value for name in key_names):
            raise KeyError(f"the key fields of {table} are not among its value fields: publish it with upsert()")
        self.records.append(Committed(table, {name: value[name] for name in key_names}, value))

    def upsert_encoded(self, table: str, key: bytes, value: bytes, timestamp: int) -> None:
        raise TypeError("the memory sink keeps values, not encoded records (record_encodings is None)")

    def delete(self, table: str, key: Mapping[str, Any]) -> None:
        self.sink.schema(table)
        self._tombstones[self.sink.config.topic(table)] += 1
        self.records.append(Committed(table, dict(key), None))

    def put_state(self, key: str, state: Mapping[str, Any] | None) -> None:
        # a copy through JSON, as the state topic would give it back
        self.records.append(Committed(None, key, None if state is None else json.loads(json.dumps(state))))

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        produced = Counter(self.sink.config.topic(r.table) for r in self.records if r.table is not None)
        return {
            topic: {"records": total - self._tombstones[topic], "tombstones": self._tombstones[topic]}
            for topic, total in produced.items()
        }


class MemorySink:
    """``Sink`` in memory. ``states`` is the state committed before this sink (a restart's starting point)."""

    def __init__(
        self,
        config: SinkConfig | None = None,
        *,
        states: Mapping[str, Mapping[str, Any]] | None = None,
        published: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.config = config or SinkConfig(bootstrap_servers="memory", registry_url="memory", transactional_id="memory")
        self.log: list[Committed] = [Committed(None, k, json.loads(json.dumps(v))) for k, v in (states or {}).items()]
        """Every committed record in commit order, state records included."""
        self.tables: dict[str, TableSchema] = {}
        self._published = dict(published or {})
        self.transactions = Counter[str]()
        self.opened = False

    # -- what the sync calls ----------------------------------------------------------------------------------

    def connect(self) -> None:
        """Nothing to reach."""

    def open(self) -> dict[str, dict[str, Any]]:
        self.opened = True
        return self.states()

    def prepare_all(self, tables: Iterable[TableSchema]) -> None:
        for table in tables:
            self.tables[table.name] = table
            self._published[table.topic_suffix] = dict(table.value_schema)

    def published_value_schema(self, topic_suffix: str) -> Mapping[str, Any] | None:
        return self._published.get(topic_suffix)

    def record_encodings(self) -> None:
        """Values are kept, not bytes: rows are converted in this process."""
        return None

    def verify_schemas(self, kept: Mapping[str, Mapping[int, str]]) -> None:
        """No registry, no ids: records in memory are kept as values."""

    def verify_written(self) -> None:
        """No registry to lose anything."""

    def written_schemas(self) -> dict[str, dict[int, str]]:
        return {}

    @contextmanager
    def transaction(self) -> Iterator[MemoryBatch]:
        batch = MemoryBatch(self)
        try:
            yield batch
        except BaseException:
            self.transactions["aborted"] += 1
            raise
        self.log.extend(batch.records)
        self.transactions["committed"] += 1

    def live_keys(self, table: str) -> list[dict[str, Any]]:
        self.schema(table)
        return [key for key, value in self._compacted(table) if value is not None]

    @property
    def policy_mismatches(self) -> tuple[TopicPolicyMismatch, ...]:
        return ()

    def close(self) -> None:
        self.opened = False

    # -- what a test reads --------------------------------------------------------------------------------------

    def schema(self, table: str) -> TableSchema:
        try:
            return self.tables[table]
        except KeyError:
            raise UnknownTableError(table, list(self.tables)) from None

    def states(self) -> dict[str, dict[str, Any]]:
        """Every state key's last committed document."""
        found: dict[str, dict[str, Any]] = {}
        for record in self.log:
            if record.table is None:
                if record.value is None:
                    found.pop(record.key, None)
                else:
                    found[record.key] = record.value
        return found

    def records(self, table: str) -> list[tuple[Key, Value]]:
        """Every committed record of ``table`` in order, tombstones as ``None`` values (an event topic's view)."""
        return [(r.key, r.value) for r in self.log if r.table == table]

    def compacted(self, table: str) -> dict[str, Key | dict[str, Any]]:
        """The latest value per key, keys whose last record is a tombstone left out (a compacted topic's view),
        keyed by the key's JSON text."""
        return {_text(key): value for key, value in self._compacted(table) if value is not None}

    def _compacted(self, table: str) -> list[tuple[Key, Value]]:
        latest: dict[str, tuple[Key, Value]] = {}
        for key, value in self.records(table):
            latest[_text(key)] = (key, value)
        return list(latest.values())


def _text(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=str)
