"""Program members through Bulk Extract (``bulk/v1/program/members/export``, ten programs a job) and through the
REST listing per program publish the same topic content: the reader may pick either by cost alone."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import load_settings
from marketo_stream.sink.fields import SYNCED_AT_FIELD
from marketo_stream.sync import windows
from marketo_stream.sync.runner import SyncRunner
from tests.fast import UNTHROTTLED_WINDOW_SECONDS
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka

TOPIC = "program_membership"


@pytest.fixture
def prefixes(kafka_admin: AdminClient) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if any(t.startswith(p + ".") for p in made)]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


def sync_into(sandbox: Sandbox, prefix: str, work: Path, bootstrap: str, registry: str) -> int:
    """A first sync into topics of ``prefix``; returns the sandbox's request sequence before it."""
    entries = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=30).json()["requests"]
    before = max((int(e["seq"]) for e in entries), default=0)
    settings = load_settings(
        None,
        {
            "MARKETO_STREAM_BASE_URL": sandbox.url,
            "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
            "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
            "MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap,
            "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry,
            "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
            "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
            "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": UNTHROTTLED_WINDOW_SECONDS,
            "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
            "MARKETO_STREAM_SYNC__START_DATE": "2026-09-01T00:00:00Z",
        },
    )
    runner = SyncRunner(settings)
    try:
        runner.run_once()
    finally:
        runner.close()
    return before


def topic_content(reader: TopicReader, topic: str) -> list[tuple[str, str]]:
    """Every committed record as (key, value) JSON, sorted, without ``_synced_at`` (when the transaction began,
    different in every run by design): the topic's content whatever the order and the run."""
    found = []
    for record in reader.read(topic):
        value = None if record.value is None else {k: v for k, v in record.value.items() if k != SYNCED_AT_FIELD}
        found.append((json.dumps(record.key, sort_keys=True), json.dumps(value, sort_keys=True, default=str)))
    return sorted(found)


def requests_of(sandbox: Sandbox, since: int, path: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{sandbox.url}/_sandbox/requests", params={"since": since, "path": path}, timeout=30)
    found: list[dict[str, Any]] = answer.json()["requests"]
    return found


def test_bulk_program_member_export_and_the_rest_listing_publish_the_same_topic(
    sandbox_factory: Callable[..., Sandbox],
    prefixes: list[str],
    tmp_path: Path,
    bootstrap_servers: str,
    registry_url: str,
    registry_client: SchemaRegistryClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = sandbox_factory(rate_limit_calls=100_000)
    listed, exported = f"pmrest{uuid.uuid4().hex[:8]}", f"pmbulk{uuid.uuid4().hex[:8]}"
    prefixes.extend([listed, exported])

    monkeypatch.setattr(windows, "CALLS_PER_JOB", 10**6)  # a job never pays: the REST listing
    rest_since = sync_into(sandbox, listed, tmp_path / "rest", bootstrap_servers, registry_url)
    monkeypatch.setattr(windows, "CALLS_PER_JOB", 0)  # a job always pays: Bulk Extract
    bulk_since = sync_into(sandbox, exported, tmp_path / "bulk", bootstrap_servers, registry_url)

    first_run = [e for e in requests_of(sandbox, rest_since, "") if int(e["seq"]) <= bulk_since]
    assert not any("/program/members/export/" in e["path"] for e in first_run)
    assert any(e["path"].endswith("/members.json") and "/programs/" in e["path"] for e in first_run)
    jobs = requests_of(sandbox, bulk_since, r"/bulk/v1/program/members/export/create\.json")
    assert jobs and all(len(job["body"]["filter"]["programIds"]) <= 10 for job in jobs)
    assert requests_of(sandbox, bulk_since, r"/rest/v1/programs/\d+/members\.json") == []

    reader = TopicReader(bootstrap_servers, registry_client)
    by_rest = topic_content(reader, f"{listed}.{TOPIC}")
    by_bulk = topic_content(reader, f"{exported}.{TOPIC}")
    assert len(by_rest) > 0
    assert by_bulk == by_rest
