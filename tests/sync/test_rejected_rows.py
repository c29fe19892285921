"""Malformed export rows against the real broker and registry: each is one record of ``<prefix>._rejected``,
committed with its window, read back read_committed through the registry, and a rerun adds none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from confluent_kafka.admin import AdminClient, ConfigResource
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import Settings
from marketo_stream.sync.runner import SyncRunner
from tests.sync.test_end_to_end import prefix, settings_for  # noqa: F401  (fixtures)
from tests.sync.topics import TopicReader

pytestmark = pytest.mark.kafka

BROKEN = {"scale": "tiny", "rate_limit_calls": 100_000, "malformed_rows": [[2, "quote"], [3, "json"]]}


def rejected_rows(settings: Settings) -> int:
    runner = SyncRunner(settings)
    try:
        return runner.run_once().rejected_rows
    finally:
        runner.close()


def test_malformed_rows_go_to_the_dead_letter_topic_once_and_every_good_row_is_published(
    sandbox_factory: Callable[..., Sandbox],
    settings_for: Callable[[Sandbox], Settings],  # noqa: F811
    registry_client: SchemaRegistryClient,
    bootstrap_servers: str,
    kafka_admin: AdminClient,
    prefix: str,  # noqa: F811
) -> None:
    sandbox = sandbox_factory(**BROKEN)
    settings = settings_for(sandbox)
    reader = TopicReader(bootstrap_servers, registry_client)
    counted = rejected_rows(settings)
    truth = requests.get(f"{sandbox.url}/_sandbox/truth/_rejected", timeout=60).json()["records"]
    topic = f"{prefix}._rejected"
    published = reader.read(topic)
    assert counted == len(truth) == len(published) > 0
    by_place = {(t["export_id"], t["line"]): t for t in truth}
    for record in published:
        assert record.value is not None
        broken = by_place[record.value["export_id"], record.value["line"]]
        assert record.key == {"table": "activity", "export_id": broken["export_id"], "line": broken["line"]}
        assert record.value["table"] == "activity" and record.value["reason"]
        if broken["kind"] == "json":
            assert "not a JSON object" in record.value["reason"] and record.value["raw"] == broken["raw"]
    assert {(r.value or {}).get("export_id") for r in published} == {t["export_id"] for t in truth}

    broken_guids = {t["marketoGUID"] for t in truth}
    activity_topics = [t for t in reader.topics(prefix) if t.startswith(f"{prefix}.activity_")]
    good = {next(iter(r.key.values())) for t in activity_topics for r in reader.read(t) if r.value is not None}
    assert good and not good & broken_guids, "a broken row is never published to its table"

    configs = kafka_admin.describe_configs([ConfigResource("topic", topic)])
    described = next(iter(configs.values())).result(30)
    assert described["cleanup.policy"].value == "delete" and described["retention.ms"].value == "-1"

    assert rejected_rows(settings) == 0
    assert len(reader.read(topic)) == len(published), "a rerun rejects nothing twice"
