"""Topics are created with the table's cleanup policy and retention; existing topics with another policy, or a
retention nobody chose here, are reported, not changed; the retention once set by default is altered."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from marketo_stream.schema import activity_table, fixed_table
from marketo_stream.sink import KafkaOperationError, KafkaSink, TableSchema, TopicPolicyMismatch

pytestmark = pytest.mark.kafka

PROGRAMS = fixed_table("program")
VISITS = activity_table({"id": 1, "name": "Visit Webpage", "attributes": []})


def _configs(admin: AdminClient, topic: str) -> dict[str, str]:
    """A topic's configs; a topic created a moment ago may be unknown to the broker that answers for a little
    while, so "unknown" is asked again for a few seconds."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    deadline = time.monotonic() + 10
    while True:
        try:
            found = admin.describe_configs([resource])[resource].result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        return {name: entry.value for name, entry in found.items()}


def _config_after_change(admin: AdminClient, topic: str, name: str, expected: str, within_s: float = 10) -> str:
    """A topic config just altered: brokers apply a change from the metadata log, so a describe right after the
    alter may still show the old value; asks again until ``expected`` or the deadline, and returns the last."""
    deadline = time.monotonic() + within_s
    while True:
        found = _configs(admin, topic)[name]
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


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
    assert sink.stats()["policy_mismatches"] == [
        {"topic": topic, "expected": "compact", "actual": "delete", "config": "cleanup.policy"}
    ]
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


OLD_DEFAULT_MS = "2592000000"  # the 30 days event topics were once created with
NINETY_DAYS_MS = 90 * 86_400_000


def _visits(suffix: str = "activity.visits") -> TableSchema:
    return TableSchema("visits", suffix, VISITS.key_schema, VISITS.value_schema, compacted=False)


def _create_event_topic(admin: AdminClient, topic: str, retention_ms: str) -> None:
    """An existing topic, as an earlier release or an operator left it: created, and its config visible."""
    config = {"cleanup.policy": "delete", "retention.ms": retention_ms}
    admin.create_topics([NewTopic(topic, 1, 1, config=config)])[topic].result(30)
    assert _config_after_change(admin, topic, "retention.ms", retention_ms) == retention_ms


def test_activity_topics_keep_their_records_forever_when_no_retention_is_chosen(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient
) -> None:
    sink = open_sink()
    sink.prepare(_visits())

    activity = _configs(kafka_admin, sink.config.topic("activity.visits"))
    assert (activity["cleanup.policy"], activity["retention.ms"]) == ("delete", "-1")
    assert sink.policy_mismatches == ()


@pytest.mark.parametrize(("chosen", "expected"), [(None, "-1"), (NINETY_DAYS_MS, str(NINETY_DAYS_MS))])
def test_an_existing_activity_topic_with_the_old_30_day_default_is_altered_at_prepare(
    open_sink: Callable[..., KafkaSink],
    kafka_admin: AdminClient,
    caplog: pytest.LogCaptureFixture,
    chosen: int | None,
    expected: str,
) -> None:
    sink = open_sink(retention_ms=chosen)
    topic = sink.config.topic("activity.visits")
    _create_event_topic(kafka_admin, topic, OLD_DEFAULT_MS)

    with caplog.at_level(logging.WARNING):
        sink.prepare(_visits())

    assert _config_after_change(kafka_admin, topic, "retention.ms", expected) == expected
    assert f"topic {topic}: retention.ms changed from {OLD_DEFAULT_MS} to {expected}" in caplog.text
    assert sink.policy_mismatches == ()


def test_a_chosen_retention_is_applied_to_an_existing_activity_topic_with_another_one(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    sink = open_sink(retention_ms=NINETY_DAYS_MS)
    topic = sink.config.topic("activity.visits")
    _create_event_topic(kafka_admin, topic, "604800000")

    with caplog.at_level(logging.WARNING):
        sink.prepare(_visits())

    assert _config_after_change(kafka_admin, topic, "retention.ms", str(NINETY_DAYS_MS)) == str(NINETY_DAYS_MS)
    assert f"topic {topic}: retention.ms changed from 604800000 to {NINETY_DAYS_MS}" in caplog.text


def test_a_retention_an_operator_set_is_left_alone_and_reported_when_none_is_chosen(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient, caplog: pytest.LogCaptureFixture
) -> None:
    sink = open_sink()
    topic = sink.config.topic("activity.visits")
    _create_event_topic(kafka_admin, topic, "604800000")

    with caplog.at_level(logging.WARNING):
        sink.prepare(_visits())

    assert _configs(kafka_admin, topic)["retention.ms"] == "604800000"
    assert sink.policy_mismatches == (TopicPolicyMismatch(topic, "-1", "604800000", "retention.ms"),)
    assert f"topic {topic} has retention.ms=604800000" in caplog.text


def test_a_retention_kafka_refuses_is_an_operation_error_naming_the_topic(
    open_sink: Callable[..., KafkaSink], kafka_admin: AdminClient
) -> None:
    sink = open_sink(retention_ms=-5)
    topic = sink.config.topic("activity.visits")
    _create_event_topic(kafka_admin, topic, OLD_DEFAULT_MS)

    with pytest.raises(KafkaOperationError, match=f"retention.ms=-5 on topic {topic}"):
        sink.prepare(_visits())
    assert _configs(kafka_admin, topic)["retention.ms"] == OLD_DEFAULT_MS
