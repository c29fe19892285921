"""``state show``, ``state reset`` and ``resync`` against a synced world: nothing changes without --yes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.operator import read_sync_state
from marketo_stream.sync_state import ActivityState, EntityState
from tests.operator.conftest import World
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka


def end_offsets(world: World, bootstrap: str) -> dict[str, int]:
    """The end offset of every topic of the world, the state topic included."""
    topics = sorted(
        t
        for t in AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).topics
        if t.startswith(world.prefix + ".")
    )
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "operator-test-offsets"})
    try:
        return {t: consumer.get_watermark_offsets(TopicPartition(t, 0), timeout=30)[1] for t in topics}
    finally:
        consumer.close()


def test_state_show_prints_each_keys_progress_and_json(world: World) -> None:
    text = world.cli("state", "show")
    as_json = world.cli("state", "show", "--json")

    assert text.exit_code == 0 and as_json.exit_code == 0
    assert "initial load done: yes" in text.output
    assert "deleted leads read up to: 2026-" in text.output and "last successful run: 2026-" in text.output
    assert "entity.list\n  rows known: " in text.output
    assert json.loads(as_json.output) == read_sync_state(world.settings)


def test_state_reset_and_resync_without_yes_change_nothing(world: World, bootstrap_servers: str) -> None:
    before, offsets = read_sync_state(world.settings), end_offsets(world, bootstrap_servers)

    reset = world.cli("state", "reset", "lead")
    resync = world.cli("resync", "activity_visit_webpage")

    assert reset.exit_code == ExitStatus.CONFIG and "lead: forgotten (tombstone)" in reset.output
    assert "fenced" in reset.output and "--yes" in reset.output
    assert resync.exit_code == ExitStatus.CONFIG
    assert "estimated cost: about" in resync.output and "bulk export(s)" in resync.output
    assert "calls used today by all integrations" in resync.output
    assert read_sync_state(world.settings) == before
    assert end_offsets(world, bootstrap_servers) == offsets


def test_state_reset_forgets_one_activity_type_and_resync_extracts_a_table_again(
    synced_world_factory: Callable[[], World], registry_client: SchemaRegistryClient, bootstrap_servers: str
) -> None:
    own = synced_world_factory()
    before = read_sync_state(own.settings)

    reset = own.cli("state", "reset", "activity_visit_webpage", "--yes")

    assert reset.exit_code == 0, reset.output
    after = read_sync_state(own.settings)
    done_before, done_after = (
        ActivityState.from_json(before["activities"]).done,
        ActivityState.from_json(after["activities"]).done,
    )
    assert 1 in done_before and 1 not in done_after
    assert {t: d for t, d in done_before.items() if t != 1} == done_after
    assert "activities.recent" not in after
    assert {k: v for k, v in after.items() if not k.startswith("activities")} == {
        k: v for k, v in before.items() if not k.startswith("activities")
    }

    lists_before = len(TopicReader(bootstrap_servers, registry_client).read(own.topic("list")))
    resync = own.cli("resync", "list", "--yes", "--quiet")

    assert resync.exit_code == 0, resync.output
    lists = TopicReader(bootstrap_servers, registry_client).read(own.topic("list"))
    known = len(EntityState.load(read_sync_state(own.settings), "list").rows)
    assert known > 0 and len(lists) == lists_before + known, "every list is published again"
