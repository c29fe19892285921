"""Reading a table's topic back: which keys are live (their last committed record is not a tombstone).

The sync needs this where Marketo offers no listing: opportunity roles can only be asked for by lead id, and
after a restart the only complete list of lead ids is the lead topic itself.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Mapping
from typing import Any

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from marketo_stream.sink.errors import KafkaOperationError


def live_keys(
    bootstrap_servers: str, topic: str, key_schema: Mapping[str, Any], timeout_s: float
) -> list[dict[str, Any]]:
    parsed = fastavro.parse_schema(dict(key_schema))
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"marketo-stream-readback-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    live: dict[bytes, dict[str, Any]] = {}
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise KafkaOperationError(f"reading {topic}", metadata.error.code(), metadata.error.name(), "")
        pending = set(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        deadline = time.monotonic() + timeout_s
        while pending:
            messages = consumer.consume(num_messages=5000, timeout=0.05)
            if messages:
                deadline = time.monotonic() + timeout_s
            elif time.monotonic() > deadline:
                raise KafkaOperationError(f"reading {topic}", KafkaError._TIMED_OUT, "_TIMED_OUT", "no end")
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise KafkaOperationError(f"reading {topic}", error.code(), error.name(), error.str())
                raw = message.key() or b""
                if message.value() is None:
                    live.pop(raw, None)
                elif raw not in live:
                    key = fastavro.schemaless_reader(io.BytesIO(raw[5:]), parsed)
                    if isinstance(key, dict):
                        live[raw] = key
    finally:
        consumer.close()
    return list(live.values())
