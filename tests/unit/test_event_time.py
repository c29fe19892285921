"""Activity records carry activityDate as their Kafka timestamp; activity retention is the user's choice."""

from __future__ import annotations

from typing import Any

from marketo_stream.schema import activity_table as activity_schema
from marketo_stream.schema import fixed_table as fixed_schema
from marketo_stream.settings import Settings
from marketo_stream.sync.published import publish
from marketo_stream.sync.runner import sink_config
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, activity_table

VISIT_TYPE = {"id": 1, "name": "Visit Webpage", "attributes": []}


def _settings(**sections: Any) -> Settings:
    marketo = {
        "base_url": "https://123-ABC-456.mktorest.com",
        "client_id": "id",
        "client_secret": "event-time-test-secret",
    }
    return Settings.model_validate({"marketo": marketo, **sections})


def test_activity_tables_declare_their_cursor_activity_date_as_event_time_and_entities_none() -> None:
    visits = activity_table(1, "Visit Webpage")
    assert visits.event_time == visits.cursor == "activityDate"
    assert all(spec.event_time is None for spec in (*FIXED_TABLES, LEAD_TABLE))


def test_published_activity_tables_name_their_avro_activity_date_field_for_the_sink() -> None:
    spec = activity_table(1, "Visit Webpage")
    assert publish(spec, activity_schema(VISIT_TYPE), _settings()).sink_schema().timestamp_field == "activity_date"
    program = next(s for s in FIXED_TABLES if s.name == "program")
    assert publish(program, fixed_schema("program"), _settings()).sink_schema().timestamp_field is None


def test_a_blocked_or_hashed_activity_date_leaves_records_at_produce_time() -> None:
    spec = activity_table(1, "Visit Webpage")
    name = spec.name
    blocked = _settings(block={"columns": {name: ["activityDate"]}})
    hashed = _settings(hash={"columns": {name: ["activity_date"]}, "secret": "key"})
    assert publish(spec, activity_schema(VISIT_TYPE), blocked).sink_schema().timestamp_field is None
    assert publish(spec, activity_schema(VISIT_TYPE), hashed).sink_schema().timestamp_field is None


def test_activity_retention_is_kept_forever_unless_days_are_set() -> None:
    assert sink_config(_settings()).retention_ms is None
    assert sink_config(_settings(kafka={"activity_retention_days": 400})).retention_ms == 400 * 86_400_000
