"""Sync state in a compacted topic: a versioned JSON envelope per key, read back with read_committed.

A state record's key is the state key as UTF-8; its value is ``{"format": 1, "state": {...}}``. A null
value (tombstone) resets the key. On start the topic is read from the beginning of every partition to its
end: only committed transactions are visible, and the last value per key wins. A record written by a newer
format is refused (``StateFormatError``) rather than misread.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from marketo_stream.sink.errors import KafkaOperationError, StateFormatError

STATE_FORMAT = 1


def encode_state(state: Mapping[str, Any]) -> bytes:
    return json.dumps({"format": STATE_FORMAT, "state": state}, separators=(",", ":"), sort_keys=True).encode()


def decode_state(key: str, payload: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(payload)
    except ValueError as exc:
        raise StateFormatError(key, f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("format"), int):
        raise StateFormatError(key, "no format version in the envelope")
    if envelope["format"] > STATE_FORMAT:
        raise StateFormatError(
            key, f"written in state format {envelope['format']}, this version reads up to {STATE_FORMAT}; upgrade"
        )
    state = envelope.get("state")
    if not isinstance(state, dict):
        raise StateFormatError(key, "the envelope holds no state object")
    return state


def read_state(bootstrap_servers: str, topic: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    """Every key's last committed state in ``topic``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"marketo-stream-state-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        if metadata.error is not None:
            raise KafkaOperationError(
                f"reading state topic {topic}", metadata.error.code(), metadata.error.name(), metadata.error.str()
            )
        pending = set(metadata.partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        states: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while pending:
            messages = consumer.consume(num_messages=1000, timeout=0.05)  # returns early only when full
            if messages:
                deadline = time.monotonic() + timeout_s
            elif time.monotonic() > deadline:
                raise KafkaOperationError(f"reading state topic {topic}", KafkaError._TIMED_OUT, "_TIMED_OUT", "no end")
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise KafkaOperationError(f"reading state topic {topic}", error.code(), error.name(), error.str())
                key = (message.key() or b"").decode()
                value = message.value()
                if value is None:
                    states.pop(key, None)
                else:
                    states[key] = decode_state(key, value)
        return states
    finally:
        consumer.close()
