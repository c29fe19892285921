"""Reading topics back as a downstream consumer would: read_committed, schemas fetched from the registry."""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sink.codec import schema_id_of


@dataclass(frozen=True)
class Record:
    key: bytes
    value: bytes | None
    partition: int
    offset: int
    timestamp: tuple[int, int] = (0, 0)
    """(timestamp type, milliseconds) as ``Message.timestamp()`` gives them."""
    headers: tuple[tuple[str, bytes], ...] = ()


def read_topic(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[Record]:
    """Every visible record of ``topic`` from the beginning to the end of each partition (read_committed)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-read-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = set(consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[Record] = []
        deadline = time.monotonic() + timeout_s
        while partitions:
            assert time.monotonic() < deadline, f"no end of {topic} within {timeout_s}s"
            messages = consumer.consume(1000, timeout=0.05)  # returns early only when full
            for m in messages:
                if m.error() is not None:
                    assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    partitions.discard(m.partition())
                else:
                    records.append(
                        Record(m.key(), m.value(), m.partition(), m.offset(), m.timestamp(), tuple(m.headers() or ()))
                    )
        return records
    finally:
        consumer.close()


class RegistryDecoder:
    """Decodes framed payloads with the writer schema fetched from the registry by the id in the frame."""

    def __init__(self, registry: SchemaRegistryClient) -> None:
        self._registry = registry
        self._parsed: dict[int, Any] = {}

    def schema(self, schema_id: int) -> dict[str, Any]:
        return dict(json.loads(self._registry.get_schema(schema_id).schema_str))

    def __call__(self, payload: bytes, reader_schema: dict[str, Any] | None = None) -> dict[str, Any]:
        schema_id = schema_id_of(payload)
        if schema_id not in self._parsed:
            self._parsed[schema_id] = fastavro.parse_schema(self.schema(schema_id))
        reader = fastavro.parse_schema(reader_schema) if reader_schema else None
        return dict(fastavro.schemaless_reader(io.BytesIO(payload[5:]), self._parsed[schema_id], reader))


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded record with logical types back as the ints the converter produces (millis, days)."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, datetime):
            out[name] = (value - _EPOCH) // timedelta(milliseconds=1)
        elif isinstance(value, date):
            out[name] = (value - date(1970, 1, 1)).days
        else:
            out[name] = value
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
