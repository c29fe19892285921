"""What the sync asks of a sink, as Protocols: ``KafkaSink`` is the real one, ``MemorySink`` its in-memory twin.

The phases and the writer are typed against these, so a phase can be run and checked without a broker, and the
broker-backed tests stay the judge of Kafka's own behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from marketo_stream.sink.codec import RecordEncoding
from marketo_stream.sink.config import SinkConfig, TableSchema
from marketo_stream.sink.topics import TopicPolicyMismatch


class SinkBatch(Protocol):
    """The records and state of one transaction: all visible after it commits, none after it aborts."""

    def upsert(self, table: str, key: Mapping[str, Any], value: Mapping[str, Any]) -> None: ...

    def upsert_values(self, table: str, values: Sequence[Any]) -> None: ...

    def upsert_encoded(self, table: str, key: bytes, value: bytes, timestamp: int) -> None:
        """A record encoded elsewhere with the table's ``RecordEncoding`` (``Sink.record_encodings``)."""
        ...

    def delete(self, table: str, key: Mapping[str, Any]) -> None: ...

    def put_state(self, key: str, state: Mapping[str, Any] | None) -> None: ...

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Per topic: ``records`` and ``tombstones`` produced in this transaction, and ``bytes`` (key and value as
        serialized) where the sink serializes."""
        ...


class Sink(Protocol):
    config: SinkConfig

    def connect(self) -> None: ...

    def open(self) -> dict[str, dict[str, Any]]:
        """Fences older writers and returns the committed state, key by key."""
        ...

    def prepare_all(self, tables: Iterable[TableSchema]) -> None: ...

    def published_value_schema(self, topic_suffix: str) -> Mapping[str, Any] | None: ...

    def record_encodings(self) -> Mapping[str, RecordEncoding] | None:
        """How each prepared table's records are encoded, as plain data another process can use; None when
        the sink keeps values, not bytes."""
        ...

    def verify_schemas(self, kept: Mapping[str, Mapping[int, str]]) -> None:
        """Raises ``SchemaDriftError`` unless every kept schema id (subject to ``{id: fingerprint}``) still means
        its schema."""
        ...

    def verify_written(self) -> None:
        """After a run: ``verify_schemas`` over every id kept or written with (``SchemaDriftError`` after_run)."""
        ...

    def written_schemas(self) -> dict[str, dict[int, str]]:
        """Subject to ``{schema id: fingerprint}`` of every schema this sink writes with."""
        ...

    def transaction(self) -> AbstractContextManager[SinkBatch]:
        """Committed when the block ends normally, aborted when it raises."""
        ...

    def live_keys(self, table: str) -> list[dict[str, Any]]: ...

    @property
    def policy_mismatches(self) -> tuple[TopicPolicyMismatch, ...]: ...

    def close(self) -> None: ...
