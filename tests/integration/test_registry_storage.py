"""The registry keeps its schemas in the broker, with `make up` as with docker compose: one storage, one topic.

Docker cannot run here, so docker-compose.yml is read, not started; the restarted registry that keeps its schemas
is proven in ``tests/sync/test_schema_drift.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from localinfra.registry import JOURNAL_TOPIC, storage_properties  # noqa: E402


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def _options(options: list[str]) -> dict[str, str]:
    return dict(option.removeprefix("-D").split("=", 1) for option in options)


def test_compose_keeps_the_schemas_in_its_broker() -> None:
    services = _compose()
    registry = services["schema-registry"]
    env = registry["environment"]
    assert env["APICURIO_STORAGE_KIND"] == "kafkasql"
    assert env["APICURIO_KAFKASQL_TOPIC"] == JOURNAL_TOPIC
    host, port = env["APICURIO_KAFKASQL_BOOTSTRAP_SERVERS"].split(":")
    kafka = services["kafka"]["environment"]
    assert f"INTERNAL://{host}:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"], "the broker's in-network listener"
    assert registry["depends_on"]["kafka"]["condition"] == "service_healthy", "the journal is read at start"
    assert not any(name.startswith("APICURIO_DATASOURCE") for name in env), "no second storage"


def test_make_up_keeps_the_schemas_in_its_broker_as_compose_does() -> None:
    local = _options(storage_properties("kafkasql", "127.0.0.1:19092"))
    env = _compose()["schema-registry"]["environment"]
    assert local["apicurio.storage.kind"] == env["APICURIO_STORAGE_KIND"] == "kafkasql"
    assert local["apicurio.kafkasql.bootstrap.servers"] == "127.0.0.1:19092"
    assert local["apicurio.kafkasql.topic"] == env["APICURIO_KAFKASQL_TOPIC"]
    assert local["apicurio.kafkasql.consumer.poll.timeout"] == env["APICURIO_KAFKASQL_CONSUMER_POLL_TIMEOUT"]
    assert local["apicurio.kafkasql.topic.retention.ms"] == "-1", "a journal that expires loses schemas"


def test_a_registry_that_forgets_is_only_had_on_request() -> None:
    assert storage_properties("memory", "127.0.0.1:19092") == []
