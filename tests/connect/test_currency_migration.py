"""The currency migration of an existing deployment (README: "Currency as exact decimals"), end to end.

A table first published with a currency field as ``double`` has a ``double precision`` column in PostgreSQL. The
decimal schema is refused until the subject's own compatibility is NONE; once registered, decimals reach the
old column (the sink never retypes it; PostgreSQL casts them); after the documented ``ALTER TABLE`` the column
is ``numeric(18,2)`` and holds the values exactly.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from confluent_kafka.admin import AdminClient

from marketo_stream.schema import lead_table
from marketo_stream.sink import IncompatibleSchemaError, KafkaSink, SinkConfig, TableSchema
from tests.connect.warehouse import ConnectWorker, Warehouse, committed_ends, shipped_connector, wait_until_caught_up
from tests.infra import Infra

pytestmark = pytest.mark.kafka

LEADS = lead_table([{"name": "id", "dataType": "integer"}, {"name": "annualBudget", "dataType": "currency"}])
AS_DOUBLE = copy.deepcopy(LEADS.value_schema)
AS_DOUBLE["fields"][1]["type"] = ["null", "double"]
HEADERS = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def table(value_schema: dict) -> TableSchema:  # type: ignore[type-arg]
    return TableSchema("lead", "lead", LEADS.key_schema, value_schema, compacted=True)


@pytest.fixture
def prefix(warehouse: Warehouse, connect_worker: ConnectWorker, kafka_admin: AdminClient) -> Iterator[str]:
    found = f"cc{uuid.uuid4().hex[:10]}"
    yield found
    connect_worker.delete(shipped_connector("postgres-entities.json", found)["name"])
    with warehouse.connect() as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{found}_lead"')
    topics = [t for t in kafka_admin.list_topics(timeout=10).topics if t.startswith(f"{found}.")]
    for future in kafka_admin.delete_topics(topics).values() if topics else ():
        future.exception(30)


def test_an_existing_double_column_takes_decimals_and_after_the_documented_alter_holds_them_exactly(
    prefix: str, infra: Infra, warehouse: Warehouse, connect_worker: ConnectWorker, kafka_admin: AdminClient
) -> None:
    def sink() -> KafkaSink:
        opened = KafkaSink(SinkConfig(infra.bootstrap_servers, infra.registry_url, f"test-{prefix}", prefix))
        opened.open()
        return opened

    def written() -> dict[int, object]:
        ends = committed_ends(infra.bootstrap_servers, [f"{prefix}.lead"])
        wait_until_caught_up(kafka_admin, connect_worker, connector["name"], ends)
        with warehouse.connect() as conn:
            rows = conn.execute(f'SELECT id, annual_budget FROM "{prefix}_lead"').fetchall()
        return {row["id"]: row["annual_budget"] for row in rows}

    def column_type() -> str:
        with warehouse.connect() as conn:
            found = conn.execute(
                "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = 'annual_budget'",
                (f"{prefix}_lead",),
            ).fetchone()
        assert found is not None
        return f"{found['data_type']}({found['numeric_precision']},{found['numeric_scale']})"

    old = sink()
    old.prepare(table(AS_DOUBLE))
    with old.transaction() as batch:
        batch.upsert("lead", {"id": 1}, {"id": 1, "annual_budget": 1604.47})
    old.close()
    connector = shipped_connector("postgres-entities.json", prefix)
    connect_worker.create(connector)
    assert written() == {1: 1604.47} and column_type().startswith("double precision")

    new = sink()
    with pytest.raises(IncompatibleSchemaError):
        new.prepare(table(LEADS.value_schema))
    subject = f"{infra.registry_url}/config/{prefix}.lead-value"
    requests.put(subject, json={"compatibility": "NONE"}, headers=HEADERS, timeout=10).raise_for_status()
    new.prepare(table(LEADS.value_schema))
    requests.put(subject, json={"compatibility": "BACKWARD"}, headers=HEADERS, timeout=10).raise_for_status()
    with new.transaction() as batch:
        batch.upsert("lead", {"id": 2}, {"id": 2, "annual_budget": Decimal("12345678.91")})
    assert written()[2] == pytest.approx(12345678.91), "the old double column takes the decimal, cast"

    with warehouse.connect() as conn:
        conn.execute(f'ALTER TABLE "{prefix}_lead" ALTER COLUMN "annual_budget" TYPE numeric(18,2)')
    with new.transaction() as batch:
        batch.upsert("lead", {"id": 3}, {"id": 3, "annual_budget": Decimal("9999999999999999.99")})
    new.close()
    assert column_type() == "numeric(18,2)"
    assert written() == {1: Decimal("1604.47"), 2: Decimal("12345678.91"), 3: Decimal("9999999999999999.99")}
