"""The real sync engine and a stock sink together: PostgreSQL ends up equal to the simulated Marketo instance.

A small sandbox world is synced by ``SyncRunner`` into this test's topic prefix; the shipped connector
configurations of ``connect/`` write the topics into PostgreSQL; once the connectors' committed offsets have
passed the last committed record of every topic, the warehouse is compared with the sandbox's ground truth.
Then the world moves on ten days (new, changed, deleted and merged leads, new activities), a custom lead field
with a name longer than PostgreSQL's 63-byte identifiers appears, the sync runs again and the comparison is
repeated: the new column exists under its capped name and is filled for the leads that changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.report import Progress
from marketo_stream.sandbox import PINNED_START, Sandbox, SandboxConfig
from marketo_stream.schema.names import MAX_FIELD_NAME, avro_name
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sync.runner import SyncRunner
from tests.connect.warehouse import (
    ConnectWorker,
    Warehouse,
    committed_ends,
    read_committed_consumer,
    shipped_connector,
    wait_until_caught_up,
)
from tests.connect.warehouse_truth import Comparison, column_types, compare_warehouse, table_rows
from tests.infra import Infra


class LeadingTombstone(AssertionError):
    """A topic starts with a tombstone: Debezium's JDBC sink (3.6) cannot create a table from one (it fails with
    a NullPointerException in ``getCreateTableStatement``), so the engine must not tombstone keys it never
    published."""


pytestmark = pytest.mark.kafka

TEN_DAYS = 10 * 86_400
NEW_FIELD = "partnerCertificationLevelForTheNorthAmericanChannelProgramAfterTheMerger"
SANDBOX = {
    "seed": 7,
    "scale": "small",
    "start": PINNED_START,
    "clock_speed": 0.0,
    "status_refresh_seconds": 0.0,
    "job_duration_seconds": 0.0,
    "rate_limit_calls": 100_000,
}


@dataclass
class Pipeline:
    """One sandbox synced into one topic prefix, and the connectors writing that prefix into PostgreSQL."""

    sandbox: Sandbox
    settings: Settings
    prefix: str
    connectors: list[str] = field(default_factory=list)
    tombstones: list[int] = field(default_factory=list)
    """Tombstones each sync published."""

    def sync(self) -> None:
        runner = SyncRunner(self.settings, progress=Progress(None, interactive=False, quiet=True))
        try:
            summary = runner.run_once()
        finally:
            runner.close()
        self.tombstones.append(sum(summary.tombstones.values()))


def sync_settings(sandbox: Sandbox, prefix: str, work: Path, infra: Infra, **extra: str) -> Settings:
    """Settings syncing ``sandbox`` into ``prefix``; ``extra`` adds variables (e.g. the delete mode)."""
    return load_settings(
        None,
        {
            "MARKETO_STREAM_BASE_URL": sandbox.url,
            "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
            "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
            "MARKETO_STREAM_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "MARKETO_STREAM_SCHEMA_REGISTRY_URL": infra.registry_url,
            "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
            "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.01",
            "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": "0.2",
            "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
            "MARKETO_STREAM_SYNC__START_DATE": "2024-06-01T00:00:00Z",
            **extra,
        },
    )


def leading_tombstones(bootstrap_servers: str, topics: list[str]) -> list[str]:
    """The topics whose first committed record is a tombstone."""
    consumer = read_committed_consumer(bootstrap_servers)
    try:
        metadata = consumer.list_topics(timeout=30)
        parts = [TopicPartition(t, p, 0) for t in topics for p in metadata.topics[t].partitions]
        consumer.assign(parts)
        first: dict[tuple[str, int], bool] = {}
        pending = {(tp.topic, tp.partition) for tp in parts}
        while pending:
            msg = consumer.poll(10)
            assert msg is not None, f"no record nor end of partition within 10 s: {sorted(pending)[:5]}"
            where = (msg.topic(), msg.partition())
            if where in pending:
                pending.discard(where)
                if not msg.error():
                    first[where] = msg.value() is None
        return sorted({topic for (topic, _), tombstone in first.items() if tombstone})
    finally:
        consumer.close()


def data_topics(admin: AdminClient, prefix: str) -> list[str]:
    return [t for t in admin.list_topics(timeout=30).topics if t.startswith(f"{prefix}.") and t != f"{prefix}._state"]


def wait_for_sinks(pipeline: Pipeline, infra: Infra, admin: AdminClient, worker: ConnectWorker) -> None:
    """Until each connector has committed past the last committed record of each of its topics."""
    prefix = pipeline.prefix
    ends = {tp: end for tp, end in committed_ends(infra.bootstrap_servers, data_topics(admin, prefix)).items() if end}
    entities, activities = pipeline.connectors

    def is_activity(topic: str) -> bool:
        return topic.startswith(f"{prefix}.activity_") and topic != f"{prefix}.activity_type"

    wait_until_caught_up(admin, worker, entities, {tp: e for tp, e in ends.items() if not is_activity(tp.topic)}, 240)
    wait_until_caught_up(admin, worker, activities, {tp: e for tp, e in ends.items() if is_activity(tp.topic)}, 240)


@pytest.fixture(scope="module")
def pipeline(
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    prefix = f"cs{uuid.uuid4().hex[:10]}"  # 12 characters: table names leave room for up to 14
    sandbox = Sandbox(SandboxConfig.from_mapping(SANDBOX)).start()
    found = Pipeline(sandbox, sync_settings(sandbox, prefix, tmp_path_factory.mktemp("sync"), infra), prefix)
    try:
        yield found
    finally:
        for name in found.connectors:
            connect_worker.delete(name)
        sandbox.stop()
        with warehouse.connect() as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE %s", (f"{prefix}\\_%",)
            ).fetchall()
            for row in tables:
                conn.execute(f'DROP TABLE IF EXISTS "{row["table_name"]}"')
        topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(f"{prefix}.")]
        for future in kafka_admin.delete_topics(topics).values() if topics else ():
            future.exception(30)


@pytest.fixture(scope="module")
def first(
    pipeline: Pipeline,
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
    registry_client: SchemaRegistryClient,
) -> Comparison:
    """The warehouse after a first sync, compared before anything moves on."""
    pipeline.sync()
    starting = leading_tombstones(infra.bootstrap_servers, data_topics(kafka_admin, pipeline.prefix))
    if starting:
        raise LeadingTombstone(
            f"topics starting with a tombstone, which the sink cannot create a table from: {starting}"
        )
    for shipped in ("postgres-entities.json", "postgres-activities.json"):
        connector = shipped_connector(shipped, pipeline.prefix)
        connect_worker.create(connector)
        pipeline.connectors.append(connector["name"])
    wait_for_sinks(pipeline, infra, kafka_admin, connect_worker)
    return compare_warehouse(warehouse, registry_client, pipeline.sandbox.url, pipeline.prefix)


@pytest.fixture(scope="module")
def second(
    first: Comparison,
    pipeline: Pipeline,
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
    registry_client: SchemaRegistryClient,
) -> Comparison:
    """The warehouse after ten more simulated days, a new custom lead field and a second sync."""
    url = pipeline.sandbox.url
    added = requests.post(
        f"{url}/_sandbox/lead-fields",
        json={"name": NEW_FIELD, "displayName": "Partner Certification Level", "dataType": "string"},
        timeout=30,
    )
    assert added.status_code == 200, added.text
    requests.post(f"{url}/_sandbox/clock", json={"advance_seconds": TEN_DAYS}, timeout=30).raise_for_status()
    pipeline.sync()
    wait_for_sinks(pipeline, infra, kafka_admin, connect_worker)
    return compare_warehouse(warehouse, registry_client, url, pipeline.prefix)


def test_after_a_first_sync_every_entity_table_equals_the_truth(first: Comparison) -> None:
    assert {"lead", "list_membership", "program_membership", "activity_type"} <= set(first.entities)
    assert not first.failures(), "\n".join(first.failures())


def test_after_a_first_sync_every_activity_table_holds_each_activity_once(first: Comparison) -> None:
    assert first.activity_rows, "the world has activity tables"
    assert sum(want for _, want in first.activity_rows.values()) > 1000, "a small world has thousands of activities"
    assert {t: held for t, (held, _) in first.activity_rows.items()} == {
        t: want for t, (_, want) in first.activity_rows.items()
    }


def test_after_a_second_sync_with_deletes_and_a_new_field_every_table_equals_the_truth(
    pipeline: Pipeline, second: Comparison
) -> None:
    assert pipeline.tombstones[1] > 0, "the ten days delete or merge leads, so the second sync publishes tombstones"
    assert not second.failures(), "\n".join(second.failures())
    assert {t: held for t, (held, _) in second.activity_rows.items()} == {
        t: want for t, (_, want) in second.activity_rows.items()
    }


def test_deleted_leads_are_gone_from_the_warehouse(
    pipeline: Pipeline, warehouse: Warehouse, second: Comparison
) -> None:
    gone = requests.get(f"{pipeline.sandbox.url}/_sandbox/truth/lead?records=false", timeout=60).json()["deleted_keys"]
    assert gone, "the world deletes or merges leads"
    ids = {row["id"] for row in table_rows(warehouse, f"{pipeline.prefix}_lead")}
    assert ids and not {k["id"] for k in gone} & ids


def test_a_custom_field_added_between_syncs_becomes_a_filled_column_under_its_capped_name(
    pipeline: Pipeline, warehouse: Warehouse, second: Comparison
) -> None:
    column = avro_name(NEW_FIELD)
    assert len(column) <= MAX_FIELD_NAME < len(NEW_FIELD)
    assert column_types(warehouse, f"{pipeline.prefix}_lead").get(column) == "text"
    truth = requests.get(f"{pipeline.sandbox.url}/_sandbox/truth/lead", timeout=60).json()["records"]
    filled = {r["id"]: r[NEW_FIELD] for r in truth if r.get(NEW_FIELD) is not None}
    assert filled, "leads changed after the field was added hold values"
    rows = {row["id"]: row[column] for row in table_rows(warehouse, f"{pipeline.prefix}_lead")}
    assert {i: rows.get(i) for i in filled} == filled
