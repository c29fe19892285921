"""``replay``: one window of one table exported again and published, the sync's state untouched."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.intervals import parse_instant
from marketo_stream.operator import read_sync_state
from marketo_stream.transform import hmac_hex
from tests.operator.conftest import BLOCKED_LEAD_COLUMN, HASH_SECRET, World
from tests.sync.topics import TopicReader
from tests.sync.truth import latest_value_schema, truth

pytestmark = pytest.mark.kafka

SINCE, UNTIL = "2026-10-05T00:00:00Z", "2026-11-10T00:00:00Z"
"""36 days: two exports, cutting through the world's activities at both ends."""


def in_window(records: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    since, until = parse_instant(SINCE), parse_instant(UNTIL)
    return [r for r in records if since <= parse_instant(r[column]) < until]


def sandbox_requests(world: World, path: str, since: int = 0) -> list[dict[str, Any]]:
    answer = requests.get(f"{world.sandbox.url}/_sandbox/requests", params={"path": path, "since": since}, timeout=30)
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["requests"]
    return found


def last_seq(world: World) -> int:
    return max((r["seq"] for r in sandbox_requests(world, ".")), default=0)


def state_end_offset(world: World, bootstrap: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "operator-test-offsets"})
    try:
        topic = world.settings.kafka.effective_state_topic()
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1])
    finally:
        consumer.close()


def test_replay_publishes_exactly_the_windows_activities_of_that_type_and_leaves_the_state_alone(
    world: World, registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    everything = truth(world.sandbox.url, "activity_visit_webpage")["records"]
    expected = {r["marketoGUID"] for r in in_window(everything, "activityDate")}
    assert expected and len(expected) < len(everything), "the window holds some of the type's activities, not all"
    state_before, offset_before, seq = (
        read_sync_state(world.settings),
        state_end_offset(world, bootstrap_servers),
        last_seq(world),
    )
    to_topic = world.topic("replay_visits")

    result = world.cli(
        "replay",
        "--table",
        "activity_visit_webpage",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--to-topic",
        to_topic,
        "--yes",
    )

    assert result.exit_code == 0, result.output
    assert "from 2 export(s)" in result.output
    published = TopicReader(bootstrap_servers, registry_client).read(to_topic)
    guids = [r.key["marketo_guid"] for r in published]
    assert sorted(guids) == sorted(expected)
    assert latest_value_schema(registry_client, to_topic)["name"]
    creates = sandbox_requests(world, "activities/export/create", since=seq)
    assert len(creates) == 2
    assert all(c["body"]["filter"]["activityTypeIds"] == [1] for c in creates)
    assert read_sync_state(world.settings) == state_before
    assert state_end_offset(world, bootstrap_servers) == offset_before, "the replay wrote nothing to the state topic"


def test_replay_of_leads_exports_by_created_at_with_the_syncs_column_policies(
    world: World, registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    leads = truth(world.sandbox.url, "lead")["records"]
    expected = {hmac_hex(HASH_SECRET.encode(), r["id"]) for r in in_window(leads, "createdAt")}
    assert expected and len(expected) < len(leads)
    seq = last_seq(world)
    to_topic = world.topic("replay_leads")

    result = world.cli("replay", "--table", "lead", "--since", SINCE, "--until", UNTIL, "--to-topic", to_topic, "--yes")

    assert result.exit_code == 0, result.output
    published = TopicReader(bootstrap_servers, registry_client).read(to_topic)
    assert {r.key["id"] for r in published} == expected
    assert all(r.value is not None and BLOCKED_LEAD_COLUMN not in r.value for r in published)
    for create in sandbox_requests(world, "leads/export/create", since=seq):
        assert BLOCKED_LEAD_COLUMN not in create["body"]["fields"]


def test_replay_without_yes_and_of_a_table_without_a_window_changes_nothing(world: World) -> None:
    seq = last_seq(world)
    unconfirmed = world.cli("replay", "--table", "lead", "--since", SINCE, "--until", UNTIL)
    refused = world.cli("replay", "--table", "program", "--since", SINCE, "--until", UNTIL, "--yes")
    backwards = world.cli("replay", "--table", "lead", "--since", UNTIL, "--until", SINCE, "--yes")

    assert unconfirmed.exit_code == ExitStatus.CONFIG and "--yes" in unconfirmed.output
    assert refused.exit_code == ExitStatus.CONFIG and "resync program" in refused.output
    assert backwards.exit_code == ExitStatus.CONFIG and "must be after" in backwards.output
    assert sandbox_requests(world, "export/create", since=seq) == []
