"""Each delete mode with the Connect configuration shipped for it: rows of deleted keys go, or stay flagged.

``tombstone`` and ``both`` with ``postgres-entities.json`` (``delete.enabled=true``): the row is deleted,
whatever came before the tombstone. ``soft`` with ``postgres-entities-soft.json`` (``delete.enabled=false``):
the flagged record is upserted like any other, so the row stays with ``__deleted`` true, its key, and null
elsewhere; a key published again afterwards is live again. ``both`` with the soft configuration keeps the
flagged row too: that sink skips tombstones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from marketo_stream.schema import lead_table
from marketo_stream.sink import DELETED_FIELD, KafkaSink, SinkConfig, TableSchema
from tests.connect.warehouse import (
    ConnectWorker,
    Warehouse,
    committed_ends,
    shipped_connector,
    wait_until_caught_up,
)
from tests.infra import Infra

pytestmark = pytest.mark.kafka

LEADS = lead_table(
    [
        {"name": "id", "dataType": "integer"},
        {"name": "email", "dataType": "email"},
        {"name": "budget", "dataType": "currency"},
    ]
)
LEAD = TableSchema("lead", "lead", LEADS.key_schema, LEADS.value_schema, compacted=True)
CASES = {  # mode, shipped configuration, what a deleted key's row is afterwards
    "tombstone": ("tombstone", "postgres-entities.json", "gone"),
    "soft": ("soft", "postgres-entities-soft.json", "flagged"),
    "both": ("both", "postgres-entities.json", "gone"),
    "both, soft sink": ("both", "postgres-entities-soft.json", "flagged"),
}


@dataclass
class Run:
    prefix: str
    connectors: list[str] = field(default_factory=list)


@pytest.fixture
def run(warehouse: Warehouse, connect_worker: ConnectWorker, kafka_admin: AdminClient) -> Iterator[Run]:
    found = Run(f"cd{uuid.uuid4().hex[:10]}")
    yield found
    for name in found.connectors:
        connect_worker.delete(name)
    with warehouse.connect() as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{found.prefix}_lead"')
    topics = [t for t in kafka_admin.list_topics(timeout=10).topics if t.startswith(f"{found.prefix}.")]
    for future in kafka_admin.delete_topics(topics).values() if topics else ():
        future.exception(30)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_deleted_key_is_gone_or_flagged_as_the_mode_and_its_configuration_say(
    case: str,
    run: Run,
    infra: Infra,
    warehouse: Warehouse,
    connect_worker: ConnectWorker,
    kafka_admin: AdminClient,
) -> None:
    mode, shipped, outcome = CASES[case]
    sink = KafkaSink(
        SinkConfig(
            infra.bootstrap_servers,
            infra.registry_url,
            transactional_id=f"test-{run.prefix}",
            topic_prefix=run.prefix,
            delete_mode=mode,  # type: ignore[arg-type]
        )
    )
    sink.open()
    try:
        sink.prepare(LEAD)
        with sink.transaction() as batch:
            for lead_id in range(1, 6):
                batch.upsert("lead", {"id": lead_id}, {"id": lead_id, "email": f"l{lead_id}@example.com"})
        with sink.transaction() as batch:
            batch.delete("lead", {"id": 2})
            batch.delete("lead", {"id": 3})
        with sink.transaction() as batch:
            batch.upsert("lead", {"id": 3}, {"id": 3, "email": "back@example.com"})  # live again
    finally:
        sink.close()
    connector = shipped_connector(shipped, run.prefix)
    connect_worker.create(connector)
    run.connectors.append(connector["name"])
    ends = committed_ends(infra.bootstrap_servers, [f"{run.prefix}.lead"])
    wait_until_caught_up(kafka_admin, connect_worker, connector["name"], ends)

    with warehouse.connect() as conn:
        found = conn.execute(f'SELECT * FROM "{run.prefix}_lead" ORDER BY id').fetchall()
    rows: dict[int, dict[str, Any]] = {row["id"]: row for row in found}
    assert rows[3]["email"] == "back@example.com" and rows[1]["email"] == "l1@example.com"
    if outcome == "gone":
        assert sorted(rows) == [1, 3, 4, 5]
    else:
        assert sorted(rows) == [1, 2, 3, 4, 5]
        assert rows[2][DELETED_FIELD] is True and rows[2]["email"] is None
        assert [rows[i][DELETED_FIELD] for i in (1, 3, 4, 5)] == [False] * 4
    if mode == "tombstone":
        assert DELETED_FIELD not in rows[1]
