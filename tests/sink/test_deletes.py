"""Deletes: a tombstone with the record's key bytes removes the key after compaction; markers come first."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from marketo_stream.schema import fixed_table, lead_table
from marketo_stream.sink import DELETED_FIELD, SYNCED_AT_FIELD, KafkaSink, TableSchema
from tests.schema.test_tables import LEAD_FIELDS
from tests.sink.conftest import FAST_COMPACTION
from tests.sink.kafka_reading import RegistryDecoder, read_topic

pytestmark = pytest.mark.kafka

LEADS = lead_table(LEAD_FIELDS)
LEAD = TableSchema("lead", "lead", LEADS.key_schema, LEADS.value_schema, compacted=True)


def test_a_tombstone_removes_the_key_after_compaction(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    sink = open_sink(topic_config=FAST_COMPACTION)
    sink.prepare(LEAD)
    topic = sink.config.topic("lead")
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "email": "gone@example.com"})
        batch.upsert("lead", {"id": 2}, {"id": 2, "email": "kept@example.com"})
    with sink.transaction() as batch:
        batch.delete("lead", {"id": 1})

    deadline, filler = time.monotonic() + 90, 100
    while True:
        records = read_topic(bootstrap_servers, topic)
        values_of_1 = [r.value for r in records if decode(r.key) == {"id": 1}]
        if values_of_1 == [None] or time.monotonic() > deadline:
            break
        with sink.transaction() as batch:  # compaction never cleans the active segment: keep rolling it
            filler += 1
            batch.upsert("lead", {"id": filler % 3 + 100}, {"id": filler % 3 + 100})
        time.sleep(0.5)
    assert values_of_1 == [None], "only the tombstone of the deleted key remains"
    assert [decode(r.value)["email"] for r in records if decode(r.key) == {"id": 2} and r.value] == ["kept@example.com"]


def test_the_tombstone_carries_the_same_key_bytes_as_the_record(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    table = fixed_table("list_membership")
    sink = open_sink()
    sink.prepare(TableSchema(table.name, table.name, table.key_schema, table.value_schema, True))
    key = {"list_id": 7, "lead_id": 1789}
    with sink.transaction() as batch:
        batch.upsert(table.name, key, {**key, "created_at": 0})
        batch.delete(table.name, key)
    records = read_topic(bootstrap_servers, sink.config.topic(table.name))
    assert len(records) == 2 and records[0].key == records[1].key and records[1].value is None


@pytest.mark.parametrize("mode", [{"delete_mode": "both"}, {"delete_markers": True}], ids=["both", "alias"])
def test_in_both_mode_a_flagged_record_precedes_the_tombstone(
    mode: dict[str, object], open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    sink = open_sink(**mode)
    sink.prepare(LEAD)
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "email": "ada@example.com"})
        batch.delete("lead", {"id": 1})
    records = read_topic(bootstrap_servers, sink.config.topic("lead"))
    assert len(records) == 3
    upsert, marker, tombstone = records
    assert decode(upsert.value)[DELETED_FIELD] is False  # type: ignore[arg-type]
    marker_value = decode(marker.value)  # type: ignore[arg-type]
    assert marker_value["id"] == 1 and marker_value[DELETED_FIELD] is True and marker_value["email"] is None
    assert tombstone.value is None and tombstone.key == marker.key == upsert.key
    assert sink.stats()["committed"][sink.config.topic("lead")] == {"records": 2, "tombstones": 1}


def test_in_soft_mode_the_flagged_record_replaces_the_tombstone(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    sink = open_sink(delete_mode="soft")
    sink.prepare(LEAD)
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "email": "ada@example.com"})
    with sink.transaction() as later:
        later.delete("lead", {"id": 1})
    records = read_topic(bootstrap_servers, sink.config.topic("lead"))
    assert [r.value is None for r in records] == [False, False], "no tombstone"
    upsert, flagged = (decode(r.value) for r in records if r.value is not None)
    assert upsert[DELETED_FIELD] is False and flagged[DELETED_FIELD] is True
    assert flagged["id"] == 1 and flagged["email"] is None and records[0].key == records[1].key
    assert upsert[SYNCED_AT_FIELD] == datetime.fromtimestamp(batch.synced_at_ms / 1000, UTC)
    assert flagged[SYNCED_AT_FIELD] == datetime.fromtimestamp(later.synced_at_ms / 1000, UTC)
    assert sink.stats()["committed"][sink.config.topic("lead")] == {"records": 2, "tombstones": 0}
    assert sink.live_keys("lead") == [], "a flagged key is not live"
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 2}, {"id": 2})
        batch.upsert("lead", {"id": 1}, {"id": 1, "email": "back@example.com"})
        batch.delete("lead", {"id": 2})
    assert sink.live_keys("lead") == [{"id": 1}]


def test_in_tombstone_mode_values_carry_no_flag(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str, decode: RegistryDecoder
) -> None:
    sink = open_sink()
    assert sink.config.effective_delete_mode == "tombstone"
    sink.prepare(LEAD)
    with sink.transaction() as batch:
        batch.upsert_values("lead", [1, "ada@example.com", *[None] * (len(LEAD.value_schema["fields"]) - 2)])
        batch.delete("lead", {"id": 1})
    first, tombstone = read_topic(bootstrap_servers, sink.config.topic("lead"))
    value = decode(first.value)  # type: ignore[arg-type]
    assert DELETED_FIELD not in value and value["email"] == "ada@example.com" and value[SYNCED_AT_FIELD] is not None
    assert tombstone.value is None
