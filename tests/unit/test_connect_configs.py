"""The Kafka Connect sink configurations (``connect/*.json``) select topics by pattern; these tests hold the patterns
to the table catalog, so that a table added to the catalog lands in the right connector or the test says which.

Compacted tables (entities: the latest row per key) go to the upserting connector, time-retained tables
(activities: one row per event) to the inserting one, and the state topic to neither.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from marketo_stream.sink.config import SinkConfig
from marketo_stream.sync.rejected import REJECTED_SCHEMA
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, TableSpec, activity_table, custom_object_table

CONNECT = Path(__file__).resolve().parents[2] / "connect"
CONFIG = SinkConfig(bootstrap_servers="-", registry_url="-", transactional_id="-")
"""The default topic prefix and state topic, which the configurations are written for."""

SAMPLE_TABLES: tuple[TableSpec, ...] = (
    *FIXED_TABLES,
    LEAD_TABLE,
    activity_table(1, "Visit Webpage"),
    activity_table(24, "Add to List"),
    activity_table(100001, "Attended Webinar (custom)"),
    custom_object_table("car_c"),
    custom_object_table("Activity_Log_c"),  # a custom object whose table name holds "activity"
)


def _connector(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((CONNECT / name).read_text(encoding="utf-8"))["config"]
    return config


ENTITIES = _connector("postgres-entities.json")
ACTIVITIES = _connector("postgres-activities.json")


def _selects(connector: dict[str, Any], topic: str) -> bool:
    """Kafka Connect matches ``topics.regex`` against the whole topic name (Java's ``Matcher.matches``)."""
    return re.fullmatch(connector["topics.regex"], topic) is not None


def test_the_directory_holds_exactly_the_three_configurations() -> None:
    assert sorted(p.name for p in CONNECT.glob("*.json")) == [
        "postgres-activities.json",
        "postgres-entities-soft.json",
        "postgres-entities.json",
    ]


def test_the_soft_delete_configuration_is_the_entities_one_keeping_rows_on_tombstones() -> None:
    soft = _connector("postgres-entities-soft.json")
    assert soft["delete.enabled"] == "false" and ENTITIES["delete.enabled"] == "true"
    assert {k: v for k, v in soft.items() if k != "delete.enabled"} == {
        k: v for k, v in ENTITIES.items() if k != "delete.enabled"
    }


@pytest.mark.parametrize("spec", SAMPLE_TABLES, ids=lambda spec: spec.name)
def test_each_table_is_read_by_the_connector_of_its_retention(spec: TableSpec) -> None:
    topic = CONFIG.topic(spec.topic_suffix)
    assert _selects(ENTITIES, topic) is spec.compacted, topic
    assert _selects(ACTIVITIES, topic) is not spec.compacted, topic


def test_the_activity_type_catalogue_is_an_entity_table_though_its_name_starts_like_an_activity_table() -> None:
    catalogue = next(spec for spec in FIXED_TABLES if spec.name == "activity_type")
    assert catalogue.compacted
    assert _selects(ENTITIES, CONFIG.topic(catalogue.topic_suffix))
    assert not _selects(ACTIVITIES, CONFIG.topic(catalogue.topic_suffix))


def test_the_state_topic_is_read_by_neither() -> None:
    assert not _selects(ENTITIES, CONFIG.state_topic_name)
    assert not _selects(ACTIVITIES, CONFIG.state_topic_name)


def test_the_dead_letter_topic_is_read_by_neither() -> None:
    """``<prefix>._rejected`` holds rows that could not be published, not a table: its underscore keeps it out."""
    rejected = CONFIG.topic(REJECTED_SCHEMA.topic_suffix)
    assert rejected.endswith("._rejected")
    assert not _selects(ENTITIES, rejected)
    assert not _selects(ACTIVITIES, rejected)


def test_upserts_and_deletes_where_the_topic_is_compacted_inserts_where_it_is_not() -> None:
    assert (ENTITIES["insert.mode"], ENTITIES["delete.enabled"]) == ("upsert", "true")
    assert (ACTIVITIES["insert.mode"], ACTIVITIES["delete.enabled"]) == ("insert", "false")
    for connector in (ENTITIES, ACTIVITIES):
        assert connector["primary.key.mode"] == "record_key"
