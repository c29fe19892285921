"""This run's tables: the fixed catalog plus the tables Marketo's metadata defines (lead, activity types,
custom objects), with column policies applied and their schemas registered before anything is produced."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marketo_stream.errors import ConfigError
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.errors import MarketoRequestError
from marketo_stream.schema import AvroTable
from marketo_stream.schema import activity_table as activity_schema
from marketo_stream.schema import custom_object_table as custom_object_schema
from marketo_stream.schema import fixed_table as fixed_schema
from marketo_stream.schema import lead_table as lead_schema
from marketo_stream.settings import KAFKA_TOPIC_NAME_MAX, Settings
from marketo_stream.sink.protocol import Sink
from marketo_stream.sync.published import PublishedTable, is_blocked, publish
from marketo_stream.sync.rejected import REJECTED_SCHEMA
from marketo_stream.tables import (
    ACTIVITY_TYPES_ENDPOINT,
    DELETE_LEAD_TYPE,
    FIXED_TABLES,
    LEAD_DESCRIBE_ENDPOINT,
    LEAD_TABLE,
    SEMANTIC_ACTIVITY_TYPES,
    TableSpec,
    activity_table,
    custom_object_table,
)

log = logging.getLogger("marketo_stream.sync")

CUSTOM_OBJECT_LISTING = "/rest/v1/customobjects.json"
"""The custom objects of the instance; each becomes a table (``tables.custom_object_table``)."""


@dataclass(frozen=True)
class Metadata:
    activity_types: list[dict[str, Any]]
    lead_fields: list[dict[str, Any]]
    custom_objects: list[dict[str, Any]]

    def rows(self, spec: TableSpec) -> list[dict[str, Any]]:
        """The rows of a table read with the metadata (``Reader.DESCRIBED``), by its endpoint."""
        return {ACTIVITY_TYPES_ENDPOINT: self.activity_types, LEAD_DESCRIBE_ENDPOINT: self.lead_fields}[spec.endpoint]


def fetch_metadata(client: MarketoClient, settings: Settings | None = None) -> Metadata:
    """Marketo's metadata; a custom object whose table ``settings`` block is not described (no call for it)."""
    types = client.get(ACTIVITY_TYPES_ENDPOINT).result
    describe = client.get(LEAD_DESCRIBE_ENDPOINT).result
    lead_fields = list(describe[0].get("fields", [])) if describe else []
    # describe2 names the fields, the older describe numbers them: the lead_describe table keeps both
    ids = {
        str((item.get("rest") or {}).get("name")): item.get("id")
        for item in client.get("/rest/v1/leads/describe.json").result
    }
    lead_fields = [{**f, "id": f.get("id", ids.get(str(f.get("name"))))} for f in lead_fields]
    custom_objects: list[dict[str, Any]] = []
    try:
        listed = client.get(CUSTOM_OBJECT_LISTING).result
    except MarketoRequestError as exc:
        log.warning("custom objects are not available (%s); none will be synced", exc)
        listed = []
    for item in listed:
        name = item.get("name")
        if name and not (settings is not None and is_blocked(custom_object_table(str(name)), settings)):
            found = client.get(f"/rest/v1/customobjects/{name}/describe.json").result
            if found:
                custom_objects.append(found[0])
    return Metadata(types, lead_fields, custom_objects)


@dataclass
class RunTables:
    published: dict[str, PublishedTable] = field(default_factory=dict)
    lead: PublishedTable | None = None
    activity_by_type: dict[int, PublishedTable | None] = field(default_factory=dict)
    """Every activity type extracted; None where the table is blocked but the type is semantic."""
    custom_objects: dict[str, PublishedTable] = field(default_factory=dict)

    def fixed(self, name: str) -> PublishedTable | None:
        return self.published.get(name)

    def extracted_type_ids(self) -> list[int]:
        return sorted(t for t in self.activity_by_type if t != DELETE_LEAD_TYPE)


def build_tables(meta: Metadata, settings: Settings, sink: Sink) -> RunTables:
    """Every table of this run, registered with the sink (schemas checked before any record is produced)."""
    run = plan_tables(meta, settings, sink)
    register_tables(run, sink)
    return run


def plan_tables(meta: Metadata, settings: Settings, sink: Sink) -> RunTables:
    """Every table of this run with its schemas, every topic name checked; nothing registered or created yet
    (the latest published value schemas are read, to keep column names stable)."""
    run = RunTables()

    def add(spec: TableSpec, table: AvroTable) -> PublishedTable:
        published = publish(spec, table, settings)
        run.published[spec.name] = published
        return published

    def previous(spec: TableSpec) -> Mapping[str, Any] | None:
        return sink.published_value_schema(spec.topic_suffix)

    for spec in FIXED_TABLES:
        if not is_blocked(spec, settings):
            add(spec, fixed_schema(spec.name))
    run.lead = add(LEAD_TABLE, lead_schema(meta.lead_fields, previous=previous(LEAD_TABLE)))
    for item in meta.activity_types:
        spec = activity_table(int(item["id"]), str(item["name"]))
        type_id = spec.activity_type_id or 0
        if is_blocked(spec, settings):
            if type_id in SEMANTIC_ACTIVITY_TYPES:
                run.activity_by_type[type_id] = None
            continue
        run.activity_by_type[type_id] = add(spec, activity_schema(item, previous=previous(spec), name=spec.name))
    for describe in meta.custom_objects:
        spec = custom_object_table(str(describe["name"]))
        if not is_blocked(spec, settings):
            schema = custom_object_schema(describe, previous=previous(spec), name=spec.name)
            run.custom_objects[spec.name] = add(spec, schema)
    schemas = [table.sink_schema() for table in run.published.values()] + [REJECTED_SCHEMA]
    check_topic_names([sink.config.topic(schema.topic_suffix) for schema in schemas] + [sink.config.state_topic_name])
    return run


def register_tables(run: RunTables, sink: Sink) -> None:
    """Registers every table's schemas and ensures its topic (an incompatible change raises here)."""
    sink.prepare_all([*(table.sink_schema() for table in run.published.values()), REJECTED_SCHEMA])


_LEGAL_TOPIC = re.compile(r"^[A-Za-z0-9._-]+$")


def check_topic_names(topics: list[str]) -> None:
    """Every topic the run will create must be a name Kafka takes: checked before any topic or subject exists,
    so that a refused name cannot leave half a catalog behind."""
    too_long = sorted((t for t in topics if len(t) > KAFKA_TOPIC_NAME_MAX), key=len, reverse=True)
    if too_long:
        raise ConfigError(
            f"kafka.topic_prefix: topic {too_long[0]!r} would be {len(too_long[0])} characters and Kafka allows "
            f"{KAFKA_TOPIC_NAME_MAX} ({len(too_long)} topic(s) too long); choose a shorter prefix"
        )
    illegal = [t for t in topics if not _LEGAL_TOPIC.match(t)]
    if illegal:
        raise ConfigError(f"topic names Kafka would refuse (only A-Z a-z 0-9 . _ -): {', '.join(illegal[:5])}")
