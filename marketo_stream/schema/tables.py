"""Avro key and value schemas for the tables whose columns come from Marketo metadata.

Every field records where its value comes from, so rows can be mapped to it and back:

- ``marketo_name``: the Marketo name of the column (``firstName``, ``Client IP Address``);
- ``marketo_type``: the Marketo ``dataType`` it was generated from;
- ``marketo_attribute``: ``true`` for activity attributes, which arrive inside the row's ``attributes``;
- ``doc``: the display name where Marketo gives one.

The record carries ``marketo_key``, the Avro names of its primary key, in order. Key columns are not nullable;
every other column is ``["null", T]`` with default ``null``. Builders accept the value schema published
before (``previous``): its columns keep their Avro names and their order, new columns are appended, so the
new schema stays backward compatible with the old one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marketo_stream.schema.names import assign_names, avro_name, table_name
from marketo_stream.schema.types import avro_type, nullable

AvroSchema = dict[str, Any]
NAMESPACE = "marketo_stream"

STANDARD_ACTIVITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("marketoGUID", "string"),
    ("leadId", "integer"),
    ("activityDate", "datetime"),
    ("activityTypeId", "integer"),
    ("campaignId", "integer"),
    ("primaryAttributeValueId", "integer"),
    ("primaryAttributeValue", "string"),
)


@dataclass(frozen=True)
class AvroTable:
    """One table's schemas: the value record and the key record holding only the primary key."""

    name: str
    key_fields: tuple[str, ...]
    key_schema: AvroSchema
    value_schema: AvroSchema
    compacted: bool


@dataclass(frozen=True)
class Column:
    """A column as Marketo describes it."""

    marketo_name: str
    data_type: str
    display_name: str | None = None
    attribute: bool = False


def key_schema(value_schema: Mapping[str, Any]) -> AvroSchema:
    """The key record: the ``marketo_key`` fields with their types only, so docs never change key bytes."""
    types = {field["name"]: field["type"] for field in value_schema["fields"]}
    return {
        "type": "record",
        "name": "Key",
        "namespace": value_schema.get("namespace", NAMESPACE),
        "fields": [{"name": name, "type": copy.deepcopy(types[name])} for name in value_schema["marketo_key"]],
    }


def table_from_value_schema(name: str, value_schema: AvroSchema, compacted: bool) -> AvroTable:
    return AvroTable(name, tuple(value_schema["marketo_key"]), key_schema(value_schema), value_schema, compacted)


def build_table(
    name: str,
    columns: Sequence[Column],
    key: Sequence[str],
    compacted: bool,
    previous: Mapping[str, Any] | None = None,
    reserved: Sequence[str] = (),
    record_attributes: Mapping[str, Any] | None = None,
) -> AvroTable:
    """A table from its columns; ``key`` and ``reserved`` name Marketo columns that must keep their plain name."""
    previous_fields = [f for f in (previous or {}).get("fields", ()) if "marketo_name" in f]
    taken = {f["marketo_name"]: f["name"] for f in previous_fields}
    pinned = [c for c in columns if c.marketo_name in (*key, *reserved)]
    taken.update(assign_names([c.marketo_name for c in pinned], taken))
    names = assign_names([c.marketo_name for c in columns], taken)
    by_name = {c.marketo_name: c for c in columns}
    order = [f["marketo_name"] for f in previous_fields if f["marketo_name"] in by_name]
    order += [c.marketo_name for c in columns if c.marketo_name not in order]
    table = avro_name(name)
    fields = [_field(by_name[m], names[m], m in key, table) for m in order]
    value: AvroSchema = {
        "type": "record",
        "name": "Value",
        "namespace": f"{NAMESPACE}.{table}",
        "fields": fields,
        **(record_attributes or {}),
        "marketo_key": [names[m] for m in key],
    }
    return table_from_value_schema(table, value, compacted)


def _field(column: Column, name: str, is_key: bool, table: str) -> dict[str, Any]:
    avro = avro_type(column.data_type, f"{table}.{column.marketo_name}")
    field: dict[str, Any] = {"name": name, "type": avro} if is_key else {"name": name, "type": nullable(avro)}
    if not is_key:
        field["default"] = None
    if column.display_name:
        field["doc"] = column.display_name
    field["marketo_name"] = column.marketo_name
    field["marketo_type"] = column.data_type
    if column.attribute:
        field["marketo_attribute"] = True
    return field


def lead_table(
    describe_fields: Iterable[Mapping[str, Any]], previous: Mapping[str, Any] | None = None, name: str = "lead"
) -> AvroTable:
    """The lead table from the ``fields`` of ``leads/describe2.json``; keyed by ``id``."""
    columns = [_column(f) for f in describe_fields]
    if not any(c.marketo_name == "id" for c in columns):
        columns.insert(0, Column("id", "integer", "Id"))
    return build_table(name, columns, key=("id",), compacted=True, previous=previous)


def activity_table(
    activity_type: Mapping[str, Any], previous: Mapping[str, Any] | None = None, name: str | None = None
) -> AvroTable:
    """One activity type's table (an item of ``activities/types.json``); keyed by ``marketoGUID``.

    Columns: the standard activity columns, then one per attribute. The primary attribute travels in
    ``primaryAttributeValueId``/``primaryAttributeValue``; its name and type are kept on the record as
    ``marketo_primary_attribute``. The default table name is ``activity_`` + the type's name.
    """
    standard = [Column(m, t) for m, t in STANDARD_ACTIVITY_COLUMNS]
    attributes = [
        Column(str(a["name"]), _attribute_type(a), attribute=True) for a in activity_type.get("attributes") or ()
    ]
    primary = activity_type.get("primaryAttribute")
    record_attributes: dict[str, Any] = {"marketo_activity_type_id": activity_type["id"]}
    if primary:
        record_attributes["marketo_primary_attribute"] = {"name": primary["name"], "dataType": primary.get("dataType")}
    return build_table(
        name or table_name("activity", str(activity_type["name"])),
        standard + attributes,
        key=("marketoGUID",),
        compacted=False,
        previous=previous,
        reserved=[m for m, _ in STANDARD_ACTIVITY_COLUMNS],
        record_attributes=record_attributes,
    )


LIST_VALUED_ATTRIBUTES = frozenset({"Merge IDs"})
"""Activity attributes whose values are arrays although ``types.json`` declares a scalar type (Merge Leads'
losing ids): published as JSON text, so that no id is lost and every sink can store it."""


def _attribute_type(attribute: Mapping[str, Any]) -> str:
    name = str(attribute["name"])
    return "text" if name in LIST_VALUED_ATTRIBUTES else str(attribute.get("dataType") or "string")


def custom_object_table(
    describe: Mapping[str, Any], previous: Mapping[str, Any] | None = None, name: str | None = None
) -> AvroTable:
    """A custom object's table from its ``describe.json`` result; keyed by its ``idField`` (``marketoGUID``)."""
    id_field = str(describe.get("idField") or "marketoGUID")
    columns = [_column(f) for f in describe.get("fields") or ()]
    if not any(c.marketo_name == id_field for c in columns):
        columns.insert(0, Column(id_field, "string"))
    return build_table(
        name or table_name("custom_object", str(describe["name"])),
        columns,
        key=(id_field,),
        compacted=True,
        previous=previous,
    )


def _column(field: Mapping[str, Any]) -> Column:
    return Column(str(field["name"]), str(field.get("dataType") or "string"), field.get("displayName"))
