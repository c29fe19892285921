"""The local infrastructure behaves as the real services our users run: transactions, compaction, schema rules."""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from collections.abc import Callable

import fastavro
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

pytestmark = pytest.mark.kafka

LEAD_V1 = {
    "type": "record",
    "name": "Lead",
    "namespace": "test.infra",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "email", "type": ["null", "string"], "default": None},
    ],
}


def _frame(schema_id: int, schema: dict, record: dict) -> bytes:
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def _unframe(registry: SchemaRegistryClient, payload: bytes) -> dict:
    magic, schema_id = struct.unpack(">bI", payload[:5])
    assert magic == 0
    schema = registry.get_schema(schema_id)
    parsed = fastavro.parse_schema(json.loads(schema.schema_str))
    return fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)


def _consume_all(bootstrap: str, topic: str, expect: int, timeout: float = 30.0) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(messages) < expect:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            messages.append(msg)
    finally:
        consumer.close()
    return messages


def test_avro_record_round_trips_through_a_transactional_producer(
    bootstrap_servers: str, registry_client: SchemaRegistryClient, new_topic: Callable[..., str]
) -> None:
    topic = new_topic("infra-avro")
    schema_id = registry_client.register_schema(f"{topic}-value", Schema(json.dumps(LEAD_V1), "AVRO"))
    producer = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "transactional.id": f"test-{topic}",
            "enable.idempotence": True,
        }
    )
    producer.init_transactions(30)
    record = {"id": 42, "email": "ada@example.com"}

    producer.begin_transaction()
    producer.produce(topic, key=b"42", value=_frame(schema_id, LEAD_V1, {"id": 1, "email": "aborted@example.com"}))
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"42", value=_frame(schema_id, LEAD_V1, record))
    producer.commit_transaction(30)

    messages = _consume_all(bootstrap_servers, topic, expect=1)
    assert len(messages) == 1, "read_committed must see the committed record only"
    assert _unframe(registry_client, messages[0].value()) == record


def test_tombstone_removes_a_key_after_compaction(bootstrap_servers: str, new_topic: Callable[..., str]) -> None:
    topic = new_topic(
        "infra-compact",
        config={
            "cleanup.policy": "compact",
            "segment.ms": "100",
            "min.cleanable.dirty.ratio": "0.001",
            "delete.retention.ms": "600000",
        },
    )
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True})
    producer.produce(topic, key=b"gone", value=b"v1")
    producer.produce(topic, key=b"kept", value=b"v1")
    producer.produce(topic, key=b"gone", value=None)
    producer.flush(10)

    deadline = time.monotonic() + 90
    seen: list[tuple[bytes, bytes | None]] = []
    filler = 0
    while time.monotonic() < deadline:
        # compaction never touches the active segment: keep rolling it with filler records
        time.sleep(0.5)
        filler += 1
        producer.produce(topic, key=f"filler-{filler % 3}".encode(), value=b"x")
        producer.flush(10)
        seen = [(m.key(), m.value()) for m in _consume_all(bootstrap_servers, topic, expect=10**6, timeout=3)]
        if (b"gone", b"v1") not in seen:
            break
    assert (b"gone", b"v1") not in seen, "the compacted topic still holds the deleted key's value"
    assert (b"gone", None) in seen, "the tombstone itself stays readable for delete.retention.ms"
    assert (b"kept", b"v1") in seen


def test_registry_rejects_an_incompatible_schema(
    registry_client: SchemaRegistryClient, unique_name: Callable[[str], str]
) -> None:
    subject = f"{unique_name('infra-compat')}-value"
    registry_client.register_schema(subject, Schema(json.dumps(LEAD_V1), "AVRO"))
    incompatible = {
        **LEAD_V1,
        "fields": [*LEAD_V1["fields"], {"name": "score", "type": "long"}],  # new field without a default
    }
    with pytest.raises(SchemaRegistryError) as raised:
        registry_client.register_schema(subject, Schema(json.dumps(incompatible), "AVRO"))
    assert raised.value.http_status_code == 409

    compatible = {
        **LEAD_V1,
        "fields": [*LEAD_V1["fields"], {"name": "score", "type": ["null", "long"], "default": None}],
    }
    registry_client.register_schema(subject, Schema(json.dumps(compatible), "AVRO"))
    assert registry_client.get_versions(subject) == [1, 2]
