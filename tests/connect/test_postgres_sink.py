"""A stock sink (Debezium's JDBC sink, Kafka Connect, Apicurio's Avro converter) keeps PostgreSQL equal to our topics.

The committed records are produced by ``marketo_stream.sink`` exactly as a sync produces them: Confluent-framed
Avro with ccompat ids, primary-key records as keys, tombstones for deletes, all in transactions. The aborted
transaction is written with the sink's encoders by a plain transactional producer that flushes before it
aborts: the sink's own abort purges records still queued in librdkafka, and aborted records that never reach
the log would prove nothing. The connectors are the shipped configurations of ``connect/``, pointed at this
test's topic prefix. Each check runs once the connectors' committed offsets have passed the last committed
record, so no table is polled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.schema import AvroTable, activity_table, fixed_table, lead_table
from marketo_stream.settings import KafkaSettings
from marketo_stream.sink import SINK_FIELDS, SYNCED_AT_FIELD, KafkaSink, SinkConfig, TableSchema
from marketo_stream.sink.codec import key_encoder, value_encoder
from tests.connect.warehouse import (
    ConnectWorker,
    Warehouse,
    committed_ends,
    consumed_topics,
    shipped_connector,
    wait_until_caught_up,
)
from tests.connect.warehouse_truth import column_types as columns
from tests.infra import Infra

pytestmark = pytest.mark.kafka

LEAD_DESCRIBE = [
    {"name": "id", "dataType": "integer"},
    {"name": "email", "dataType": "email"},
    {"name": "firstName", "dataType": "string"},
    {"name": "createdAt", "dataType": "datetime"},
    {"name": "updatedAt", "dataType": "datetime"},
    {"name": "dateOfBirth", "dataType": "date"},
    {"name": "leadScore", "dataType": "score"},
    {"name": "unsubscribed", "dataType": "boolean"},
    {"name": "annualRevenue", "dataType": "currency"},
    {"name": "group", "dataType": "string"},  # an SQL reserved word, as custom field names can be
]
LEAD_SOURCE = {"name": "leadSource", "dataType": "string"}
VISIT_WEBPAGE = {
    "id": 1,
    "name": "Visit Webpage",
    "primaryAttribute": {"name": "Webpage ID", "dataType": "integer"},
    "attributes": [
        {"name": "Client IP Address", "dataType": "string"},
        {"name": "Query Parameters", "dataType": "string"},
    ],
}
BASE = datetime(2024, 2, 29, 23, 59, 58, 999000, tzinfo=UTC)
CURRENCY_EDGES = {
    1: Decimal("12345678.91"),
    2: Decimal("-0.01"),
    3: Decimal("9999999999999999.99"),
    4: Decimal("0.10"),
    6: Decimal("-9999999999999999.99"),
}
"""Currency values that a double would not hold exactly (or at all): they must reach PostgreSQL unchanged."""


def lead(lead_id: int, revision: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": lead_id,
        "email": f"lead{lead_id}.r{revision}@example.com",
        "first_name": None if lead_id % 7 == 0 else f"Zoë {lead_id}",
        "created_at": BASE - timedelta(days=lead_id * 97, milliseconds=lead_id * 37),
        "updated_at": BASE + timedelta(hours=revision, milliseconds=lead_id),
        "date_of_birth": date(1950, 1, 1) + timedelta(days=lead_id * 733),  # before and after 1970
        "lead_score": lead_id * 10 + revision,
        "unsubscribed": lead_id % 2 == 0,
        "annual_revenue": None
        if lead_id % 5 == 0
        else CURRENCY_EDGES.get(lead_id, Decimal(lead_id) * Decimal("1234.50")),
        "group": f"g{lead_id % 3}",
        **extra,
    }


def membership(list_id: int, lead_id: int, revision: int = 0) -> dict[str, Any]:
    at = BASE + timedelta(minutes=list_id * 10 + lead_id, seconds=revision)
    return {"list_id": list_id, "lead_id": lead_id, "created_at": at, "updated_at": at + timedelta(days=revision)}


def activity_type(type_id: int, revision: int = 0) -> dict[str, Any]:
    return {
        "id": type_id,
        "name": f"Type {type_id}",
        "description": f"revision {revision}",
        "api_name": f"type{type_id}",
        "primary_attribute": '{"name": "Webpage ID", "dataType": "integer"}',
        "attributes": "[]",
    }


def activity(n: int, prefix: str = "a") -> dict[str, Any]:
    return {
        "marketo_guid": f"{prefix}{n}-{n * 7919:08d}",
        "lead_id": n % 30 + 1,
        "activity_date": BASE + timedelta(minutes=n, milliseconds=n),
        "activity_type_id": 1,
        "campaign_id": None if n % 3 else n,
        "primary_attribute_value_id": 1000 + n,
        "primary_attribute_value": f"/page/{n}",
        "client_ip_address": f"192.0.2.{n % 250}",
        "query_parameters": None if n % 4 else f"utm_source=s{n}",
    }


def schema_of(table: AvroTable) -> TableSchema:
    return TableSchema(table.name, table.name, table.key_schema, table.value_schema, table.compacted)


@dataclass
class Scenario:
    """What was produced, as a read_committed consumer must see it, and what must never arrive."""

    prefix: str
    sink: KafkaSink
    lead: AvroTable
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted_leads: set[int] = field(default_factory=set)
    memberships: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity_types: dict[int, dict[str, Any]] = field(default_factory=dict)
    aborted_activities: set[str] = field(default_factory=set)
    connectors: list[str] = field(default_factory=list)

    def table(self, name: str) -> str:
        """The documented naming: topic ``<prefix>.<table>`` becomes table ``<prefix>_<table>``."""
        return f"{self.prefix}_{name}"

    def upsert_lead(self, batch: Any, row: dict[str, Any]) -> None:
        batch.upsert("lead", {"id": row["id"]}, row)
        self.leads[row["id"]] = row
        self.deleted_leads.discard(row["id"])

    def delete_lead(self, batch: Any, lead_id: int) -> None:
        batch.delete("lead", {"id": lead_id})
        self.leads.pop(lead_id, None)
        self.deleted_leads.add(lead_id)


class AbortedTransaction:
    """Records of our format in a transaction that reaches the log and is then aborted."""

    def __init__(self, bootstrap_servers: str, registry: SchemaRegistryClient, prefix: str) -> None:
        self._registry, self._prefix = registry, prefix
        self._producer = Producer({"bootstrap.servers": bootstrap_servers, "transactional.id": f"test-{prefix}-abort"})
        self._producer.init_transactions(30)
        self._producer.begin_transaction()

    def send(self, table: TableSchema, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        topic = f"{self._prefix}.{table.topic_suffix}"
        key_id = self._registry.get_latest_version(f"{topic}-key").schema_id
        value_id = self._registry.get_latest_version(f"{topic}-value").schema_id
        encoded = None if value is None else value_encoder(value_id, table.value_schema)(value)
        self._producer.produce(topic, encoded, key_encoder(key_id, table.key_schema)(key))

    def abort(self) -> None:
        assert self._producer.flush(30) == 0, "the aborted records must be in the log before the abort"
        self._producer.abort_transaction(30)


def produce_history(scenario: Scenario, tables: Mapping[str, TableSchema], aborted: AbortedTransaction) -> None:
    """Four transactions; the second is aborted and touches every table."""
    sink = scenario.sink
    activity_name = tables["activity"].name
    with sink.transaction() as batch:
        for lead_id in range(1, 41):
            scenario.upsert_lead(batch, lead(lead_id))
        for list_id, lead_id in [(1, n) for n in range(1, 6)] + [(2, n) for n in range(1, 4)]:
            batch.upsert("list_membership", {"list_id": list_id, "lead_id": lead_id}, membership(list_id, lead_id))
            scenario.memberships[(list_id, lead_id)] = membership(list_id, lead_id)
        for n in range(60):
            batch.upsert(activity_name, {"marketo_guid": activity(n)["marketo_guid"]}, activity(n))
            scenario.activities[activity(n)["marketo_guid"]] = activity(n)
        for type_id in (1, 2, 3):
            batch.upsert("activity_type", {"id": type_id}, activity_type(type_id))
            scenario.activity_types[type_id] = activity_type(type_id)
        batch.put_state("lead", {"cursor": "2024-02-29T23:59:58Z"})  # JSON: no sink may read the state topic

    for lead_id in [*range(11, 21), 999]:
        aborted.send(tables["lead"], {"id": lead_id}, lead(lead_id, revision=9, email="aborted@example.com"))
    aborted.send(tables["lead"], {"id": 21}, None)
    aborted.send(tables["list_membership"], {"list_id": 3, "lead_id": 1}, membership(3, 1))
    aborted.send(tables["list_membership"], {"list_id": 1, "lead_id": 1}, None)
    for n in range(10):
        aborted.send(tables["activity"], {"marketo_guid": activity(n, "x")["marketo_guid"]}, activity(n, "x"))
        scenario.aborted_activities.add(activity(n, "x")["marketo_guid"])
    aborted.abort()

    with sink.transaction() as batch:
        for lead_id in range(1, 11):
            scenario.upsert_lead(batch, lead(lead_id, revision=1))  # same key again: an update
        for lead_id in range(31, 41):
            scenario.delete_lead(batch, lead_id)
        batch.delete("list_membership", {"list_id": 1, "lead_id": 2})
        del scenario.memberships[(1, 2)]
        batch.upsert("list_membership", {"list_id": 2, "lead_id": 3}, membership(2, 3, revision=1))
        scenario.memberships[(2, 3)] = membership(2, 3, revision=1)
        batch.upsert("activity_type", {"id": 1}, activity_type(1, revision=1))  # an entity, whatever its name
        scenario.activity_types[1] = activity_type(1, revision=1)
        for n in range(60, 100):
            batch.upsert(activity_name, {"marketo_guid": activity(n)["marketo_guid"]}, activity(n))
            scenario.activities[activity(n)["marketo_guid"]] = activity(n)

    with sink.transaction() as batch:
        scenario.upsert_lead(batch, lead(35, revision=2))  # back after its tombstone
        for n in range(100, 120):
            batch.upsert(activity_name, {"marketo_guid": activity(n)["marketo_guid"]}, activity(n))
            scenario.activities[activity(n)["marketo_guid"]] = activity(n)


def topics_of(scenario: Scenario, *names: str) -> list[str]:
    return [f"{scenario.prefix}.{name}" for name in names]


@pytest.fixture(scope="module")
def scenario(
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
    registry_client: SchemaRegistryClient,
) -> Iterator[Scenario]:
    prefix = f"cx{uuid.uuid4().hex[:10]}"
    kafka = KafkaSettings(topic_prefix=prefix)  # the state topic named as the sync names it
    sink = KafkaSink(
        SinkConfig(
            infra.bootstrap_servers,
            infra.registry_url,
            transactional_id=f"test-{prefix}",
            topic_prefix=prefix,
            state_topic=kafka.effective_state_topic(),
        )
    )
    sink.open()
    leads, members, visits = lead_table(LEAD_DESCRIBE), fixed_table("list_membership"), activity_table(VISIT_WEBPAGE)
    tables = {"lead": schema_of(leads), "list_membership": schema_of(members)}
    tables["activity_type"] = schema_of(fixed_table("activity_type"))
    tables["activity"] = schema_of(visits)
    for table in tables.values():
        sink.prepare(table)
    found = Scenario(prefix, sink, leads)
    try:
        produce_history(found, tables, AbortedTransaction(infra.bootstrap_servers, registry_client, prefix))
        for shipped in ("postgres-entities.json", "postgres-activities.json"):
            connector = shipped_connector(shipped, prefix)
            connect_worker.create(connector)
            found.connectors.append(connector["name"])
        entities, activities = found.connectors
        activity_topic = f"{prefix}.{visits.name}"
        ends = committed_ends(
            infra.bootstrap_servers, topics_of(found, "lead", "list_membership", "activity_type", visits.name)
        )
        wait_until_caught_up(
            kafka_admin, connect_worker, entities, {tp: o for tp, o in ends.items() if tp.topic != activity_topic}
        )
        wait_until_caught_up(
            kafka_admin, connect_worker, activities, {tp: o for tp, o in ends.items() if tp.topic == activity_topic}
        )
        yield found
    finally:
        for name in found.connectors:
            connect_worker.delete(name)
        sink.close()
        with warehouse.connect() as conn:
            for name in ("lead", "list_membership", "activity_type", visits.name):
                conn.execute(f'DROP TABLE IF EXISTS "{found.table(name)}"')
        topics = [t for t in kafka_admin.list_topics(timeout=10).topics if t.startswith(f"{prefix}.")]
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


def rows(warehouse: Warehouse, table: str, key: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    """The table's rows by primary key, timestamps read back as UTC (the sink writes UTC into ``timestamp``)."""
    with warehouse.connect() as conn:
        found = conn.execute(f'SELECT * FROM "{table}"').fetchall()
    normalised = [{k: _utc(v) for k, v in row.items() if k not in SINK_FIELDS} for row in found]
    return {row[key[0]] if len(key) == 1 else tuple(row[k] for k in key): row for row in normalised}


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def primary_key(warehouse: Warehouse, table: str) -> list[str]:
    with warehouse.connect() as conn:
        found = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
            (f'"{table}"',),
        ).fetchall()
    return [row["attname"] for row in found]


def assert_rows_equal(actual: Mapping[Any, Mapping[str, Any]], expected: Mapping[Any, Mapping[str, Any]]) -> None:
    assert sorted(actual) == sorted(expected), "the table's keys differ from the live keys produced"
    differing = {k: (dict(actual[k]), dict(v)) for k, v in expected.items() if dict(actual[k]) != dict(v)}
    assert not differing, f"{len(differing)} rows differ (table, produced), e.g. {next(iter(differing.items()))}"


def test_every_live_entity_row_holds_its_last_committed_values(warehouse: Warehouse, scenario: Scenario) -> None:
    in_postgres = rows(warehouse, scenario.table("lead"), ("id",))
    assert_rows_equal(in_postgres, scenario.leads)
    assert in_postgres[1]["email"] == "lead1.r1@example.com", "an update of a key replaces its row"


def test_tombstones_delete_rows_also_under_composite_keys(warehouse: Warehouse, scenario: Scenario) -> None:
    leads = rows(warehouse, scenario.table("lead"), ("id",))
    assert scenario.deleted_leads == {31, 32, 33, 34, 36, 37, 38, 39, 40}
    assert not scenario.deleted_leads & set(leads), "tombstoned keys must be deleted"
    assert leads[35] == scenario.leads[35], "a key produced again after its tombstone is back"
    memberships = rows(warehouse, scenario.table("list_membership"), ("list_id", "lead_id"))
    assert (1, 2) not in memberships
    assert_rows_equal(memberships, scenario.memberships)


def test_aborted_transactions_never_reach_the_warehouse(warehouse: Warehouse, scenario: Scenario) -> None:
    leads = rows(warehouse, scenario.table("lead"), ("id",))
    assert 999 not in leads, "a key first produced in an aborted transaction"
    assert 21 in leads, "a tombstone of an aborted transaction"
    assert all(leads[i]["email"] != "aborted@example.com" for i in range(11, 21))
    memberships = rows(warehouse, scenario.table("list_membership"), ("list_id", "lead_id"))
    assert (3, 1) not in memberships and (1, 1) in memberships
    activities = rows(warehouse, scenario.table("activity_visit_webpage"), ("marketo_guid",))
    assert not scenario.aborted_activities & set(activities)


def test_activities_are_appended_once_each(warehouse: Warehouse, scenario: Scenario) -> None:
    activities = rows(warehouse, scenario.table("activity_visit_webpage"), ("marketo_guid",))
    assert len(activities) == len(scenario.activities) == 120
    assert_rows_equal(activities, scenario.activities)


def test_each_connector_reads_only_its_topics(
    kafka_admin: AdminClient, warehouse: Warehouse, scenario: Scenario
) -> None:
    entities, activities = scenario.connectors
    assert consumed_topics(kafka_admin, entities) == set(
        topics_of(scenario, "lead", "list_membership", "activity_type")
    )
    assert consumed_topics(kafka_admin, activities) == set(topics_of(scenario, "activity_visit_webpage"))
    types = rows(warehouse, scenario.table("activity_type"), ("id",))
    assert_rows_equal(types, scenario.activity_types)


def test_columns_take_the_types_of_the_avro_schema(warehouse: Warehouse, scenario: Scenario) -> None:
    assert columns(warehouse, scenario.table("lead")) == {
        "id": "bigint",
        "email": "text",
        "first_name": "text",
        "created_at": "timestamp without time zone",
        "updated_at": "timestamp without time zone",
        "date_of_birth": "date",
        "lead_score": "bigint",
        "unsubscribed": "boolean",
        "annual_revenue": "numeric",
        "group": "text",
        SYNCED_AT_FIELD: "timestamp without time zone",
    }
    assert primary_key(warehouse, scenario.table("lead")) == ["id"]
    assert primary_key(warehouse, scenario.table("list_membership")) == ["list_id", "lead_id"]
    assert primary_key(warehouse, scenario.table("activity_visit_webpage")) == ["marketo_guid"]


def test_a_new_nullable_column_is_added_and_filled(
    infra: Infra, warehouse: Warehouse, connect_worker: ConnectWorker, kafka_admin: AdminClient, scenario: Scenario
) -> None:
    published = scenario.sink.published_value_schema("lead")
    v2 = lead_table([*LEAD_DESCRIBE, LEAD_SOURCE], previous=published)
    assert [f["name"] for f in v2.value_schema["fields"]][-1] == "lead_source"
    scenario.sink.prepare(schema_of(v2))
    scenario.leads = {k: {**v, "lead_source": None} for k, v in scenario.leads.items()}
    with scenario.sink.transaction() as batch:
        for lead_id in (*range(1, 6), 200):
            scenario.upsert_lead(batch, lead(lead_id, revision=3, lead_source=f"webinar {lead_id}"))
        scenario.upsert_lead(batch, lead(6, revision=3, lead_source=None))

    ends = committed_ends(infra.bootstrap_servers, topics_of(scenario, "lead"))
    wait_until_caught_up(kafka_admin, connect_worker, scenario.connectors[0], ends)

    assert columns(warehouse, scenario.table("lead")).get("lead_source") == "text"
    in_postgres = rows(warehouse, scenario.table("lead"), ("id",))
    assert in_postgres[200]["lead_source"] == "webinar 200"
    assert_rows_equal(in_postgres, scenario.leads)


def test_currency_values_reach_postgresql_exactly_as_numeric_18_2(warehouse: Warehouse, scenario: Scenario) -> None:
    with warehouse.connect() as conn:
        column = conn.execute(
            "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'annual_revenue'",
            (scenario.table("lead"),),
        ).fetchone()
        exact = conn.execute(
            f'SELECT annual_revenue::text AS text FROM "{scenario.table("lead")}" WHERE id = 1'
        ).fetchone()
    assert column == {"numeric_precision": 18, "numeric_scale": 2}
    assert exact == {"text": "12345678.91"}
    in_postgres = rows(warehouse, scenario.table("lead"), ("id",))
    assert {i: in_postgres[i]["annual_revenue"] for i in CURRENCY_EDGES if i in in_postgres} == {
        i: v for i, v in CURRENCY_EDGES.items() if i in scenario.leads
    }


def test_every_row_holds_when_its_record_was_published(warehouse: Warehouse, scenario: Scenario) -> None:
    with warehouse.connect() as conn:
        found = conn.execute(f'SELECT {SYNCED_AT_FIELD} AS at FROM "{scenario.table("lead")}"').fetchall()
    assert found and all(row["at"] is not None for row in found)
