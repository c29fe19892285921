"""Records of a table with a timestamp field carry it as their Kafka timestamp; other records carry produce time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, KafkaError

from marketo_stream.schema import activity_table, fixed_table
from marketo_stream.sink import KafkaSink, RecordEncodingError, TableSchema
from tests.sink.kafka_reading import read_topic

pytestmark = pytest.mark.kafka

VISITS = activity_table({"id": 1, "name": "Visit Webpage", "attributes": []})
VISIT = TableSchema(
    "visit", "activity.visit", VISITS.key_schema, VISITS.value_schema, compacted=False, timestamp_field="activity_date"
)
LISTS = fixed_table("list")
LIST = TableSchema("list", "list", LISTS.key_schema, LISTS.value_schema, compacted=True)
FIELDS = [f["name"] for f in VISITS.value_schema["fields"]]
MAY_2015 = 1_432_248_313_000  # 2015-05-21T22:45:13Z
JUNE_2023 = 1_686_000_000_000


def _values(guid: str, activity_date: int | None) -> list[object]:
    values: list[object] = [None] * len(FIELDS)
    values[FIELDS.index("marketo_guid")] = guid
    values[FIELDS.index("activity_date")] = activity_date
    return values


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _timestamps(bootstrap: str, topic: str) -> dict[bytes, tuple[int, int]]:
    return {record.key: record.timestamp for record in read_topic(bootstrap, topic)}


def test_records_given_as_values_carry_their_event_time(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(VISIT)
    started = _now_ms()
    with sink.transaction() as batch:
        batch.upsert_values("visit", _values("a", MAY_2015))
        batch.upsert_values("visit", _values("b", JUNE_2023))
        batch.upsert_values("visit", _values("undated", None))
    finished = _now_ms()

    stamps = sorted(read_topic(bootstrap_servers, sink.config.topic("activity.visit")), key=lambda r: r.offset)
    assert [r.timestamp for r in stamps[:2]] == [(TIMESTAMP_CREATE_TIME, MAY_2015), (TIMESTAMP_CREATE_TIME, JUNE_2023)]
    kind, undated = stamps[2].timestamp
    assert kind == TIMESTAMP_CREATE_TIME and started <= undated <= finished


def test_records_given_as_dicts_carry_their_event_time_as_millis_or_datetime(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(VISIT)
    with sink.transaction() as batch:
        batch.upsert("visit", {"marketo_guid": "a"}, {"marketo_guid": "a", "activity_date": MAY_2015})
        as_datetime = datetime.fromtimestamp(JUNE_2023 / 1000, UTC)
        batch.upsert("visit", {"marketo_guid": "b"}, {"marketo_guid": "b", "activity_date": as_datetime})

    stamps = sorted(read_topic(bootstrap_servers, sink.config.topic("activity.visit")), key=lambda r: r.offset)
    assert [r.timestamp for r in stamps] == [(TIMESTAMP_CREATE_TIME, MAY_2015), (TIMESTAMP_CREATE_TIME, JUNE_2023)]


def test_a_redone_transaction_produces_the_same_event_times(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(VISIT)
    with sink.transaction() as batch:
        batch.upsert_values("visit", _values("a", MAY_2015))
        batch.upsert("visit", {"marketo_guid": "b"}, {"marketo_guid": "b", "activity_date": JUNE_2023})
        sink.redo(batch, KafkaError(KafkaError._STATE))  # as on an abortable error: abort, produce again

    assert sink.stats()["transactions"]["redone"] == 1
    records = read_topic(bootstrap_servers, sink.config.topic("activity.visit"))
    assert sorted(r.timestamp for r in records) == [
        (TIMESTAMP_CREATE_TIME, MAY_2015),
        (TIMESTAMP_CREATE_TIME, JUNE_2023),
    ]


def test_entity_records_and_tombstones_carry_the_time_they_are_produced(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(LIST)
    started = _now_ms()
    with sink.transaction() as batch:
        batch.upsert("list", {"id": 1}, {"id": 1, "name": "one", "created_at": MAY_2015})
        batch.upsert_values("list", [2, "two", *[None] * (len(LISTS.value_schema["fields"]) - 2)])
        batch.delete("list", {"id": 3})
    finished = _now_ms()

    records = read_topic(bootstrap_servers, sink.config.topic("list"))
    assert len(records) == 3
    for record in records:
        kind, stamp = record.timestamp
        assert kind == TIMESTAMP_CREATE_TIME and started <= stamp <= finished


def test_a_timestamp_field_that_is_missing_or_not_a_long_is_refused_at_prepare(
    open_sink: Callable[..., KafkaSink],
) -> None:
    sink = open_sink()
    with pytest.raises(ValueError, match="'nope' is not among"):
        sink.prepare(
            TableSchema("visit", "activity.visit", VISITS.key_schema, VISITS.value_schema, False, None, "nope")
        )
    with pytest.raises(ValueError, match="'marketo_guid' is not a long"):
        sink.prepare(
            TableSchema("visit", "activity.visit", VISITS.key_schema, VISITS.value_schema, False, None, "marketo_guid")
        )


def test_a_datetime_without_a_time_zone_is_a_record_encoding_error(open_sink: Callable[..., KafkaSink]) -> None:
    sink = open_sink()
    sink.prepare(VISIT)
    naive = datetime(2015, 5, 21, 22, 45, 13)
    with pytest.raises(RecordEncodingError, match="not a timestamp"), sink.transaction() as batch:
        batch.upsert("visit", {"marketo_guid": "a"}, {"marketo_guid": "a", "activity_date": naive})
