"""Topics are created with the table's cleanup policy; existing topics with another one are reported, not changed."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from marketo_stream.schema import activity_table, fixed_table
from marketo_stream.sink import KafkaSink, TableSchema, TopicPolicyMismatch

pytestmark = pytest.mark.kafka

PROGRAMS = fixed_table("program")
VISITS = activity_table({"id": 1, "name": "Visit Webpage", "attributes": []})


def _configs(admin: AdminClient, topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return {name: entry.value for name, entry in admin.describe_configs([resource])[resource].result(30).items()}


def test_entity_activity_and_state_topics_get_their_policies(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient
) -> None:
    sink = open_sink(partitions=3, retention_ms=86_400_000)
    sink.prepare(TableSchema("program", "program", PROGRAMS.key_schema, PROGRAMS.value_schema, compacted=True))
    sink.prepare(TableSchema("visits", "activity.visits", VISITS.key_schema, VISITS.value_schema, compacted=False))
    sink.prepare(
        TableSchema("visits_90d", "activity.visits_90d", VISITS.key_schema, VISITS.value_schema, False, 7_776_000_000)
    )

    assert _configs(kafka_admin, sink.config.topic("program"))["cleanup.policy"] == "compact"
    activity = _configs(kafka_admin, sink.config.topic("activity.visits"))
    assert (activity["cleanup.policy"], activity["retention.ms"]) == ("delete", "86400000")
    assert _configs(kafka_admin, sink.config.topic("activity.visits_90d"))["retention.ms"] == "7776000000"
    assert _configs(kafka_admin, sink.config.state_topic_name)["cleanup.policy"] == "compact"
    metadata = kafka_admin.list_topics(timeout=10).topics
    assert len(metadata[sink.config.topic("program")].partitions) == 3
    assert len(metadata[sink.config.state_topic_name].partitions) == 1
    assert sink.policy_mismatches == ()


def test_an_existing_topic_with_the_wrong_policy_is_reported_and_left_alone(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    sink = open_sink()
    topic = sink.config.topic("program")
    kafka_admin.create_topics([NewTopic(topic, 1, 1, config={"cleanup.policy": "delete"})])[topic].result(30)

    with caplog.at_level(logging.WARNING):
        sink.prepare(TableSchema("program", "program", PROGRAMS.key_schema, PROGRAMS.value_schema, compacted=True))

    assert sink.policy_mismatches == (TopicPolicyMismatch(topic, "compact", "delete"),)
    assert sink.stats()["policy_mismatches"] == [{"topic": topic, "expected": "compact", "actual": "delete"}]
    assert topic in caplog.text and "cleanup.policy=delete" in caplog.text
    assert _configs(kafka_admin, topic)["cleanup.policy"] == "delete"


def test_preparing_many_tables_at_once_creates_the_missing_topics_and_checks_the_existing_ones(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient
) -> None:
    sink = open_sink()
    existing = sink.config.topic("program")
    kafka_admin.create_topics([NewTopic(existing, 1, 1, config={"cleanup.policy": "delete"})])[existing].result(30)
    visits = [
        TableSchema(f"visits_{n}", f"activity.visits_{n}", VISITS.key_schema, VISITS.value_schema, compacted=False)
        for n in range(5)
    ]

    sink.prepare_all([TableSchema("program", "program", PROGRAMS.key_schema, PROGRAMS.value_schema, True), *visits])

    assert sink.policy_mismatches == (TopicPolicyMismatch(existing, "compact", "delete"),)
    for table in visits:
        assert _configs(kafka_admin, sink.config.topic(table.topic_suffix))["cleanup.policy"] == "delete"
    with sink.transaction() as batch:  # every table is usable, its schemas registered
        for n, table in enumerate(visits):
            batch.upsert(table.name, {"marketo_guid": str(n)}, {"marketo_guid": str(n)})
