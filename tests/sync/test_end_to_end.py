"""The product end to end: the real sync engine, the sandbox over HTTP, the real broker and registry.

After a first sync, and after the simulated world moves on (new, changed, deleted and merged leads, new
activities) and a second sync, every topic equals the sandbox's ground truth: entity topics in their
compacted view with deletes as tombstones, activity topics with every activity exactly once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from confluent_kafka import TIMESTAMP_CREATE_TIME
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.cli import main
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.intervals import parse_instant
from marketo_stream.marketo.errors import RetryableError
from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sync.runner import SyncRunner
from tests.sync.topics import TopicReader
from tests.sync.truth import compare_activities, compare_entity, truth, truth_tables

pytestmark = pytest.mark.kafka

FAST = {"rate_limit_calls": 100_000}
SKIPPED_TABLES = {
    "api_usage",  # changes with every call, the comparison's own included
    "named_account",  # not a table of ours
    "email_template_history",  # a history of versions seen: checked on its own below
}


def sync_env(sandbox: Sandbox, prefix: str, work: Path) -> dict[str, str]:
    return {
        "MARKETO_STREAM_BASE_URL": sandbox.url,
        "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
        "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0.01",
        "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": "0.2",
        "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
        "MARKETO_STREAM_SYNC__START_DATE": "2024-06-01T00:00:00Z",
    }


@pytest.fixture
def prefix(kafka_admin: AdminClient) -> Iterator[str]:
    name = f"e2e{uuid.uuid4().hex[:8]}"
    yield name
    topics = [t for t in kafka_admin.list_topics(timeout=30).topics if t.startswith(name + ".")]
    if topics:
        for future in kafka_admin.delete_topics(topics).values():
            future.exception(30)


@pytest.fixture
def settings_for(
    prefix: str, tmp_path: Path, bootstrap_servers: str, registry_url: str
) -> Callable[[Sandbox], Settings]:
    def make(sandbox: Sandbox) -> Settings:
        env = sync_env(sandbox, prefix, tmp_path / "work")
        env["MARKETO_STREAM_BOOTSTRAP_SERVERS"] = bootstrap_servers
        env["MARKETO_STREAM_SCHEMA_REGISTRY_URL"] = registry_url
        return load_settings(None, env)

    return make


@dataclass
class World:
    """A sandbox, the settings that sync it into this test's topics, and a reader for those topics."""

    sandbox: Sandbox
    settings: Settings
    reader: TopicReader
    registry: SchemaRegistryClient
    prefix: str

    def sync(self) -> dict[str, Any]:
        return sync(self.settings)

    def advance(self, days: int) -> None:
        url = f"{self.sandbox.url}/_sandbox/clock"
        requests.post(url, json={"advance_seconds": days * 86400}, timeout=60).raise_for_status()

    def differences(self) -> list[str]:
        return differences(self.sandbox, self.reader, self.registry, self.prefix)


@pytest.fixture
def world(
    sandbox_factory: Callable[..., Sandbox],
    settings_for: Callable[[Sandbox], Settings],
    registry_client: SchemaRegistryClient,
    bootstrap_servers: str,
    prefix: str,
) -> World:
    sandbox = sandbox_factory(**FAST)
    reader = TopicReader(bootstrap_servers, registry_client)
    return World(sandbox, settings_for(sandbox), reader, registry_client, prefix)


def sync(settings: Settings) -> dict[str, Any]:
    runner = SyncRunner(settings)
    try:
        summary = runner.run_once()
    finally:
        runner.close()
    return {"records": sum(summary.records.values()), "tombstones": sum(summary.tombstones.values())}


def differences(sandbox: Sandbox, reader: TopicReader, registry: SchemaRegistryClient, prefix: str) -> list[str]:
    """Every table compared with the truth; returns the differences, described."""
    rules: dict[str, dict[str, Any]] = {
        # membership dates come from Add to List activities, known only within Marketo's retention
        "list_membership": {"when_known": {"created_at"}},
    }
    found = []
    for table in truth_tables(sandbox.url):
        if table in SKIPPED_TABLES:
            continue
        if table.startswith("activity_") and table != "activity_type":
            diff, duplicates = compare_activities(reader, sandbox.url, prefix, table)
            if duplicates:
                found.append(f"{table}: {duplicates} activities published more than once")
        else:
            diff = compare_entity(reader, registry, sandbox.url, prefix, table, **rules.get(table, {}))
        if diff:
            found.append(str(diff))
    return found


def _millis_now() -> int:
    return time.time_ns() // 1_000_000


def _timestamp_differences(world: World, started: int, finished: int) -> list[str]:
    """Activity records stamped with anything but their activityDate, lead records with anything but a time of
    the sync that produced them."""
    found = []
    activity_topics = [t for t in world.reader.topics(world.prefix) if t.startswith(f"{world.prefix}.activity_")]
    activity_topics.remove(f"{world.prefix}.activity_type")
    assert activity_topics
    for topic in activity_topics:
        for record in world.reader.read(topic):
            assert record.value is not None
            if record.timestamp != (TIMESTAMP_CREATE_TIME, record.value["activity_date"]):
                found.append(f"{topic} {record.key}: {record.timestamp}, activity_date {record.value['activity_date']}")
    for record in world.reader.read(f"{world.prefix}.lead"):
        kind, stamp = record.timestamp
        if kind != TIMESTAMP_CREATE_TIME or not started <= stamp <= finished:
            found.append(f"lead {record.key}: {record.timestamp}, produced between {started} and {finished}")
    return found


def test_two_syncs_leave_every_topic_equal_to_the_truth(world: World) -> None:
    started = _millis_now()
    first = world.sync()
    finished = _millis_now()
    assert first["records"] > 1000
    assert world.differences() == []
    assert _timestamp_differences(world, started, finished) == []

    gone_before = {k["id"] for k in truth(world.sandbox.url, "lead")["deleted_keys"]}
    world.advance(days=10)
    gone_after = {k["id"] for k in truth(world.sandbox.url, "lead")["deleted_keys"]}
    assert gone_after - gone_before, "the world must delete or merge leads in between, or this test proves nothing"

    second = world.sync()
    assert second["tombstones"] >= len(gone_after - gone_before)
    assert world.differences() == []

    third = world.sync()
    assert world.differences() == [], "a sync with nothing new changes nothing"
    assert third["tombstones"] <= len(gone_after), "only the deleted-leads overlap is re-read"


def test_every_email_template_version_seen_is_kept(world: World) -> None:
    sandbox, reader, prefix = world.sandbox, world.reader, world.prefix
    world.sync()
    world.advance(days=20)
    world.sync()

    published = {
        (r.key["id"], r.value["version"], r.value["status"])
        for r in reader.read(f"{prefix}.email_template_history")
        if r.value
    }
    everything = {(r["id"], r["version"]) for r in truth(sandbox.url, "_email_template_revisions")["records"]}
    assert {(i, v) for i, v, _ in published} <= everything, "only versions that existed"
    shown_now = _templates_shown(sandbox)
    assert shown_now <= {(i, v, s) for i, v, s in published}, "every version Marketo shows now is kept"
    assert len(published) > len(shown_now), "versions seen by the first sync stay after they are superseded"


def _templates_shown(sandbox: Sandbox) -> set[tuple[int, int, str]]:
    token = requests.get(
        f"{sandbox.url}/identity/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=30,
    ).json()["access_token"]
    shown = set()
    for status in ("approved", "draft"):
        answer = requests.get(
            f"{sandbox.url}/rest/asset/v1/emailTemplates.json",
            params={"status": status, "maxReturn": 200},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        shown |= {(r["id"], r["version"], r["status"]) for r in answer.get("result", [])}
    return shown


def test_the_newest_seven_days_finish_before_any_older_window_is_requested(
    sandbox_factory: Callable[..., Sandbox], settings_for: Callable[[Sandbox], Settings]
) -> None:
    sandbox = sandbox_factory(**FAST)
    sync(settings_for(sandbox))
    log = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=60).json()["requests"]
    now = parse_instant(requests.get(f"{sandbox.url}/_sandbox/clock", timeout=30).json()["now"])
    creates = [e for e in log if e["path"] == "/bulk/v1/activities/export/create.json" and e.get("status") == 200]
    newest = [
        e for e in creates if parse_instant(e["body"]["filter"]["createdAt"]["startAt"]) >= now - timedelta(days=7)
    ]
    older = [e for e in creates if e not in newest]
    assert newest and older, "a first sync extracts the newest 7 days and history"
    first_older = min(e["seq"] for e in older)
    downloaded = {
        e["path"].split("/")[5]
        for e in log
        if e["path"].startswith("/bulk/v1/activities/export/")
        and e["path"].endswith("/file.json")
        and e["seq"] < first_older
    }
    assert max(e["seq"] for e in newest) < first_older
    assert len(downloaded) >= len(newest), "every newest-days window was downloaded before history was requested"


def test_a_sync_stopped_midway_resumes_without_losing_or_repeating_anything(world: World) -> None:
    faults = f"{world.sandbox.url}/_sandbox/faults"
    fault = {"path": "/rest/v1/lists\\.json", "http_status": 500, "times": 50}
    requests.post(faults, json={"faults": [fault]}, timeout=30).raise_for_status()
    with pytest.raises(RetryableError, match="500"):
        world.sync()
    requests.delete(faults, timeout=30).raise_for_status()

    world.sync()
    assert world.differences() == []


def test_quota_exhaustion_stops_with_its_own_exit_status(
    sandbox_factory: Callable[..., Sandbox], prefix: str, tmp_path: Path, bootstrap_servers: str, registry_url: str
) -> None:
    sandbox = sandbox_factory(**FAST, daily_quota=30)
    env = sync_env(sandbox, prefix, tmp_path / "work")
    env |= {"MARKETO_STREAM_BOOTSTRAP_SERVERS": bootstrap_servers, "MARKETO_STREAM_SCHEMA_REGISTRY_URL": registry_url}
    result = CliRunner().invoke(main, ["sync", "--quiet"], env=env)
    assert result.exit_code == ExitStatus.QUOTA, result.output
    assert "quota" in result.output.lower() and "midnight" in result.output
