"""Reading back what a sync published: every record of a topic (read_committed), decoded through the registry."""

from __future__ import annotations

import io
import json
import struct
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import fastavro
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient


@dataclass(frozen=True)
class Published:
    key: dict[str, Any]
    value: dict[str, Any] | None
    """None for a tombstone."""
    timestamp: tuple[int, int] = (0, 0)
    """(timestamp type, milliseconds) as ``Message.timestamp()`` gives them."""


class TopicReader:
    def __init__(self, bootstrap: str, registry: SchemaRegistryClient, client: dict[str, str] | None = None) -> None:
        """``client``: librdkafka settings beside the servers (a secured broker's login)."""
        self.bootstrap = bootstrap
        self.client = {**(client or {}), "bootstrap.servers": bootstrap}
        self.registry = registry
        self._schemas: dict[int, Any] = {}

    def topics(self, prefix: str) -> list[str]:
        listed = AdminClient(self.client).list_topics(timeout=30).topics
        return sorted(t for t in listed if t.startswith(prefix + "."))

    def decode(self, payload: bytes) -> dict[str, Any]:
        magic, schema_id = struct.unpack(">bI", payload[:5])
        assert magic == 0, "Confluent framing starts with magic byte 0"
        if schema_id not in self._schemas:
            schema = json.loads(self.registry.get_schema(schema_id).schema_str)
            self._schemas[schema_id] = fastavro.parse_schema(schema)
        record: dict[str, Any] = fastavro.schemaless_reader(io.BytesIO(payload[5:]), self._schemas[schema_id])
        return {name: plain(value) for name, value in record.items()}

    def read(self, topic: str) -> list[Published]:
        """Every committed record of the topic, in offset order per partition."""
        consumer = Consumer(
            {
                **self.client,
                "group.id": f"reader-{uuid.uuid4().hex}",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
        try:
            meta = consumer.list_topics(topic, timeout=30).topics[topic]
            parts = []
            for pid in meta.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, pid), timeout=30)
                if high > low:
                    parts.append(TopicPartition(topic, pid, low))
            if not parts:
                return []
            consumer.assign(parts)
            remaining = {p.partition for p in parts}
            out: list[Published] = []
            idle = 0
            while remaining and idle < 40:
                msg = consumer.poll(0.5)
                if msg is None:
                    idle += 1
                    continue
                if msg.error():
                    if msg.error().code() == -191:  # _PARTITION_EOF
                        remaining.discard(msg.partition())
                    continue
                idle = 0
                key = self.decode(msg.key())
                value = self.decode(msg.value()) if msg.value() is not None else None
                out.append(Published(key, value, msg.timestamp()))
            assert not remaining, f"{topic}: did not reach the end of partitions {remaining}"
            return out
        finally:
            consumer.close()

    def latest(self, topic: str) -> dict[str, dict[str, Any] | None]:
        """The compacted view: the last value per key (None where the last record is a tombstone)."""
        view: dict[str, dict[str, Any] | None] = {}
        for record in self.read(topic):
            view[key_text(record.key)] = record.value
        return view


def plain(value: Any) -> Any:
    """fastavro reads logical types as datetime/date; our rows carry them as epoch millis and days."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    return value


def key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=str)
