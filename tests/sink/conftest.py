"""Sinks on the real broker and registry, each test with its own topic prefix and transactional id."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sink import KafkaSink, SinkConfig
from tests.sink.kafka_reading import RegistryDecoder

# compaction becomes observable within seconds (the active segment is never cleaned)
FAST_COMPACTION = {"segment.ms": "100", "min.cleanable.dirty.ratio": "0.001", "delete.retention.ms": "600000"}


@pytest.fixture
def sink_config(bootstrap_servers: str, registry_url: str) -> Callable[..., SinkConfig]:
    prefix = f"test-sink-{uuid.uuid4().hex[:10]}"

    def make(**overrides: Any) -> SinkConfig:
        settings: dict[str, Any] = {"topic_prefix": prefix, "transactional_id": prefix, **overrides}
        return SinkConfig(bootstrap_servers=bootstrap_servers, registry_url=registry_url, **settings)

    return make


@pytest.fixture
def open_sink(sink_config: Callable[..., SinkConfig], kafka_admin: AdminClient) -> Iterator[Callable[..., KafkaSink]]:
    """Opens sinks and, afterwards, closes them and deletes the topics of their prefix."""
    opened: list[KafkaSink] = []

    def make(**overrides: Any) -> KafkaSink:
        sink = KafkaSink(sink_config(**overrides))
        sink.open()
        opened.append(sink)
        return sink

    yield make
    prefixes = {s.config.topic_prefix for s in opened}
    for sink in opened:
        sink.close()
    topics = [t for t in kafka_admin.list_topics(timeout=10).topics if any(t.startswith(p) for p in prefixes)]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


@pytest.fixture
def decode(registry_client: SchemaRegistryClient) -> RegistryDecoder:
    return RegistryDecoder(registry_client)
