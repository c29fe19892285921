"""Every committed record of a run's topics in one pass: one read_committed consumer assigned every partition
of every ``<prefix>.*`` topic, decoded through the registry (the tests' ``TopicReader`` decoding)."""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from tests.sync.topics import Published, TopicReader

PARTITION_EOF = -191


def read_prefix(bootstrap: str, registry: SchemaRegistryClient, prefix: str) -> dict[str, list[Published]]:
    """Topic name → its records in offset order per partition (the ``_state`` topic too, undecoded: empty)."""
    decoder = TopicReader(bootstrap, registry)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"chaos-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    out: dict[str, list[Published]] = {}
    try:
        listed = consumer.list_topics(timeout=30).topics
        parts = []
        for name, meta in listed.items():
            if not name.startswith(prefix + ".") or name.endswith("._state"):
                continue
            out[name] = []
            for pid in meta.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(name, pid), timeout=30)
                if high > low:
                    parts.append(TopicPartition(name, pid, low))
        if not parts:
            return out
        consumer.assign(parts)
        remaining = {(p.topic, p.partition) for p in parts}
        idle = 0
        while remaining and idle < 60:
            msg = consumer.poll(0.5)
            if msg is None:
                idle += 1
                continue
            if msg.error():
                if msg.error().code() == PARTITION_EOF:
                    remaining.discard((msg.topic(), msg.partition()))
                continue
            idle = 0
            key = decoder.decode(msg.key())
            value = decoder.decode(msg.value()) if msg.value() is not None else None
            out[msg.topic()].append(Published(key, value, msg.timestamp()))
        if remaining:
            raise RuntimeError(f"did not reach the end of {sorted(remaining)[:5]}")
        return out
    finally:
        consumer.close()


class SnapshotReader(TopicReader):
    """A ``TopicReader`` answering from records already read, for the truth comparers of ``tests/sync/truth.py``."""

    def __init__(self, bootstrap: str, registry: SchemaRegistryClient, records: dict[str, list[Published]]) -> None:
        super().__init__(bootstrap, registry)
        self.records = records

    def topics(self, prefix: str) -> list[str]:
        return sorted(t for t in self.records if t.startswith(prefix + "."))

    def read(self, topic: str) -> list[Published]:
        return list(self.records.get(topic, []))


def delete_prefix(bootstrap: str, prefix: str) -> None:
    """Drops a finished run's topics so that the harness's broker stays small over a hundred runs."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix + ".")]
    if topics:
        for future in admin.delete_topics(topics).values():
            future.exception(30)


def as_jsonable(records: dict[str, list[Published]]) -> dict[str, Any]:
    """For a run's dump on mismatch: topic → [[key, value], ...]."""
    return {topic: [[r.key, r.value] for r in rows] for topic, rows in records.items()}
