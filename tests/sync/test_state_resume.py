"""A sync resumes from the state that the last version-one release (df782e5) committed.

``tests/fixtures/state_v1.jsonl`` holds that release's state topic after one sync of a tiny world, and what its
own second sync published. The records go, byte for byte, into a fresh state topic; today's sync of the same
world must read them through the migrations and publish exactly what that second sync published.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from marketo_stream.jsontext import dumps_sorted
from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import load_settings
from marketo_stream.state_migrations import STATE_VERSION
from marketo_stream.sync.runner import SyncRunner
from tests.fast import UNTHROTTLED_WINDOW_SECONDS
from tests.unit.test_state_migrations import FIXTURE, fixture_states, republished_after_upgrade

pytestmark = pytest.mark.kafka


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    name = f"resume{uuid.uuid4().hex[:8]}"
    yield name
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(name + ".")]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


def test_a_sync_resumes_from_version_one_state_as_that_release_did(
    sandbox_factory: Callable[..., Sandbox],
    bootstrap_servers: str,
    registry_url: str,
    prefix: str,
    tmp_path: Path,
    kafka_admin: AdminClient,
) -> None:
    head, _ = fixture_states()
    sandbox = sandbox_factory(**head["world"])
    env = {
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
        "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": UNTHROTTLED_WINDOW_SECONDS,
        "MARKETO_STREAM_SYNC__WORK_DIR": str(tmp_path / "work"),
        "MARKETO_STREAM_SYNC__START_DATE": head["start_date"],
        "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap_servers,
        "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url,
    }
    settings = load_settings(None, env)
    state_topic = settings.kafka.effective_state_topic()
    created = kafka_admin.create_topics([NewTopic(state_topic, 1, 1, config={"cleanup.policy": "compact"})])
    created[state_topic].result(timeout=30)
    failed: list[str] = []
    producer = Producer({"bootstrap.servers": bootstrap_servers})
    for line in FIXTURE.read_text(encoding="utf-8").splitlines()[1:]:
        record = json.loads(line)
        value = None if record["value"] is None else dumps_sorted(record["value"])
        producer.produce(
            state_topic,
            key=record["key"].encode(),
            value=value,
            on_delivery=lambda error, _: failed.extend([str(error)] if error else []),
        )
    assert producer.flush(30) == 0 and not failed

    runner = SyncRunner(settings)
    try:
        summary = runner.run_once()
        after = runner.sink.open()
    finally:
        runner.close()

    again = republished_after_upgrade(dict(summary.records))
    assert {t: n for t, n in summary.records.items() if t not in again} == head["second_sync"]["records"]
    assert dict(summary.tombstones) == head["second_sync"]["tombstones"]
    assert after["run"]["v"] == STATE_VERSION and after["lead"]["v"] == STATE_VERSION
