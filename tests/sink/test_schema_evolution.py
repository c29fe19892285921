"""Schemas evolve backward-compatibly; an incompatible change is refused before anything is produced."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal

import pytest
import requests

from marketo_stream.schema import lead_table
from marketo_stream.sink import (
    IncompatibleSchemaError,
    KafkaSink,
    KeySchemaChangedError,
    TableSchema,
)
from tests.schema.test_tables import LEAD_FIELDS
from tests.sink.kafka_reading import RegistryDecoder, read_topic

pytestmark = pytest.mark.kafka

V1 = lead_table(LEAD_FIELDS)


def _lead(value_schema: dict, key_schema: dict | None = None) -> TableSchema:
    return TableSchema("lead", "lead", key_schema or V1.key_schema, value_schema, compacted=True)


def test_a_new_custom_field_registers_version_2_and_old_readers_still_decode_new_records(
    open_sink: Callable[..., KafkaSink],
    bootstrap_servers: str,
    decode: RegistryDecoder,
    registry_client,  # type: ignore[no-untyped-def]
) -> None:
    sink = open_sink()
    sink.prepare(_lead(V1.value_schema))
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "email": "v1@example.com"})

    new_field = {"name": "webinarScore__c", "displayName": "Webinar Score", "dataType": "integer"}
    published = sink.published_value_schema("lead")
    v2 = lead_table([*LEAD_FIELDS, new_field], previous=published)
    sink.prepare(_lead(v2.value_schema))
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 2}, {"id": 2, "email": "v2@example.com", "webinar_score_c": 42})

    topic = sink.config.topic("lead")
    assert registry_client.get_versions(f"{topic}-value") == [1, 2]
    assert registry_client.get_versions(f"{topic}-key") == [1]
    first, second = read_topic(bootstrap_servers, topic)
    assert first.key[1:5] == second.key[1:5], "the key schema id stays the same"
    assert decode(second.value)["webinar_score_c"] == 42  # type: ignore[arg-type]
    old_reader = decode(second.value, reader_schema=V1.value_schema)  # type: ignore[arg-type]
    assert old_reader["email"] == "v2@example.com" and "webinar_score_c" not in old_reader
    assert decode(first.value, reader_schema=v2.value_schema)["webinar_score_c"] is None  # type: ignore[arg-type]


def test_an_incompatible_change_is_refused_naming_table_and_field_and_nothing_is_produced(
    open_sink: Callable[..., KafkaSink], bootstrap_servers: str
) -> None:
    sink = open_sink()
    sink.prepare(_lead(V1.value_schema))
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1})
    topic = sink.config.topic("lead")
    before = read_topic(bootstrap_servers, topic)

    broken = copy.deepcopy(V1.value_schema)
    next(f for f in broken["fields"] if f["name"] == "lead_score")["type"] = ["null", "string"]
    broken["fields"].append({"name": "required_flag", "type": "boolean"})
    restarted = open_sink()
    with pytest.raises(IncompatibleSchemaError) as raised:
        restarted.prepare(_lead(broken))
    assert raised.value.table == "lead"
    assert raised.value.fields == ("lead_score", "required_flag")
    assert "lead_score" in str(raised.value) and "'lead'" in str(raised.value)
    assert read_topic(bootstrap_servers, topic) == before


def test_the_registry_refusal_is_typed_even_when_the_local_check_would_pass(
    open_sink: Callable[..., KafkaSink],
) -> None:
    # The registry applies BACKWARD to a renamed record too; the sink reports the registry's reason.
    sink = open_sink()
    sink.prepare(_lead(V1.value_schema))
    renamed = {**V1.value_schema, "name": "Renamed"}
    with pytest.raises(IncompatibleSchemaError) as raised:
        sink.prepare(_lead(renamed))
    assert raised.value.table == "lead"


def test_a_changed_key_schema_is_refused(open_sink: Callable[..., KafkaSink]) -> None:
    sink = open_sink()
    sink.prepare(_lead(V1.value_schema))
    string_key = {**V1.key_schema, "fields": [{"name": "id", "type": "string"}]}
    with pytest.raises(KeySchemaChangedError):
        sink.prepare(_lead(V1.value_schema, string_key))


def test_the_same_key_schema_in_another_spelling_keeps_its_id(
    open_sink: Callable[..., KafkaSink],
    registry_client,  # type: ignore[no-untyped-def]
) -> None:
    sink = open_sink()
    sink.prepare(_lead(V1.value_schema))
    documented = {**V1.key_schema, "doc": "the lead id"}
    open_sink().prepare(_lead(V1.value_schema, documented))
    assert registry_client.get_versions(f"{sink.config.topic('lead')}-key") == [1]


def test_currency_as_decimal_is_refused_over_a_double_until_the_subject_allows_any_change(
    open_sink: Callable[..., KafkaSink], registry_url: str, decode: RegistryDecoder, bootstrap_servers: str
) -> None:
    """The migration of a deployment that published currency fields as doubles (README: currency migration)."""
    as_double = copy.deepcopy(V1.value_schema)
    next(f for f in as_double["fields"] if f["name"] == "annual_revenue")["type"] = ["null", "double"]
    sink = open_sink()
    sink.prepare(_lead(as_double))
    with sink.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "annual_revenue": 1604.47})

    with pytest.raises(IncompatibleSchemaError) as raised:
        open_sink().prepare(_lead(V1.value_schema))
    assert raised.value.fields == ("annual_revenue",)

    subject = f"{sink.config.topic('lead')}-value"
    config = f"{registry_url}/config/{subject}"
    headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
    requests.put(config, json={"compatibility": "NONE"}, headers=headers, timeout=10).raise_for_status()
    migrated = open_sink()
    migrated.prepare(_lead(V1.value_schema))
    requests.put(config, json={"compatibility": "BACKWARD"}, headers=headers, timeout=10).raise_for_status()
    with migrated.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "annual_revenue": Decimal("12345678.91")})
    old, new = read_topic(bootstrap_servers, sink.config.topic("lead"))
    assert decode(old.value)["annual_revenue"] == 1604.47  # type: ignore[arg-type]
    assert decode(new.value)["annual_revenue"] == Decimal("12345678.91")  # type: ignore[arg-type]
