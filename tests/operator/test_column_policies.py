"""Blocking and hashing end to end: the export request, the registered schema and the topic's bytes.

The configuration side is specified in tests/unit/test_config_cli.py (blocking the lead table is refused; an
invalid setting fails ``config validate`` naming it) and the transforms in tests/unit/test_transform.py.
"""

from __future__ import annotations

import pytest
import requests
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.transform import hmac_hex
from tests.operator.conftest import BLOCKED_LEAD_COLUMN, HASH_SECRET, World
from tests.operator.raw import raw_records
from tests.sync.topics import TopicReader
from tests.sync.truth import latest_value_schema, truth

pytestmark = pytest.mark.kafka


def lead_export_bodies(world: World) -> list[dict[str, object]]:
    answer = requests.get(f"{world.sandbox.url}/_sandbox/requests", params={"path": "leads/export/create"}, timeout=30)
    answer.raise_for_status()
    return [r["body"] for r in answer.json()["requests"]]


def test_a_blocked_lead_column_is_not_requested_registered_or_published(
    world: World, registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    bodies = lead_export_bodies(world)
    assert bodies, "the initial load creates lead exports"
    for body in bodies:
        fields = body["fields"]
        assert isinstance(fields, list) and "email" in fields
        assert BLOCKED_LEAD_COLUMN not in fields
    schema = latest_value_schema(registry_client, world.topic("lead"))
    names = {f["name"] for f in schema["fields"]}
    assert "email" in names and BLOCKED_LEAD_COLUMN not in names
    records = TopicReader(bootstrap_servers, registry_client).read(world.topic("lead"))
    values = [r.value for r in records if r.value is not None]
    assert values and all(BLOCKED_LEAD_COLUMN not in v for v in values)
    phones = {str(r[BLOCKED_LEAD_COLUMN]).encode() for r in truth(world.sandbox.url, "lead")["records"] if r["phone"]}
    raw = b"".join(value or b"" for _, value in raw_records(bootstrap_servers, world.topic("lead")))
    assert phones and not any(phone in raw for phone in phones)


def test_hashed_lead_email_and_id_appear_only_as_their_hmac(
    world: World, registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    leads = truth(world.sandbox.url, "lead")["records"]
    raw = b"".join(k + (v or b"") for k, v in raw_records(bootstrap_servers, world.topic("lead")))
    emails = [str(r["email"]) for r in leads if r["email"]]
    assert emails and not [e for e in emails if e.encode() in raw]
    published = {
        r.key["id"]: r.value for r in TopicReader(bootstrap_servers, registry_client).read(world.topic("lead"))
    }
    secret = HASH_SECRET.encode()
    for lead in leads:
        value = published[hmac_hex(secret, lead["id"])]  # equal inputs hash equal: the key is found by its hash
        assert value is not None and value["email"] == (hmac_hex(secret, lead["email"]) if lead["email"] else None)
        assert value["id"] == hmac_hex(secret, lead["id"])


def test_tombstones_of_hashed_keys_carry_the_same_key_bytes_as_their_records(
    world: World, registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    topic = world.topic("lead")
    decoded = TopicReader(bootstrap_servers, registry_client).read(topic)
    raw = raw_records(bootstrap_servers, topic)
    assert len(decoded) == len(raw)
    key_bytes: dict[str, list[tuple[bytes, bool]]] = {}
    for record, (key, value) in zip(decoded, raw, strict=True):
        key_bytes.setdefault(record.key["id"], []).append((key, value is None))
    secret = HASH_SECRET.encode()
    deleted_after_publishing = 0
    for gone in truth(world.sandbox.url, "lead")["deleted_keys"]:
        history = key_bytes.get(hmac_hex(secret, gone["id"]), [])
        if not any(not tombstone for _, tombstone in history):
            continue  # deleted before the first sync: never published
        deleted_after_publishing += 1
        assert history[-1][1], f"lead {gone['id']} was published and deleted but is not tombstoned"
        assert len({key for key, _ in history}) == 1, "the tombstone's key bytes differ from its records'"
    assert deleted_after_publishing > 0, "the world deletes or merges some published lead between the syncs"
