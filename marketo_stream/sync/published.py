"""The tables of one run as they will be published: schema after column policies, converter, and whether they
are published at all (semantic activity types are read even when their tables are blocked)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marketo_stream.schema import AvroTable, RowConverter, ValuesConverter
from marketo_stream.settings import Settings
from marketo_stream.sink import TableSchema
from marketo_stream.tables import TableSpec
from marketo_stream.transform import ColumnPolicy, apply_to_table, bulk_converter, hashers, policy_for, row_transform

Row = dict[str, Any]


@dataclass(frozen=True)
class PublishedTable:
    spec: TableSpec
    avro: AvroTable
    """The schema as registered: after blocking and hashing."""
    source: AvroTable
    """The schema before column policies: what Marketo is asked for and what rows are converted with."""
    convert: Callable[[Mapping[str, Any]], Row]
    """Marketo row → Avro-ready value, column policies applied."""
    key_of: Callable[[Row], Row]
    """Avro-ready value → its key record."""
    hash_key: Callable[[Row], Row]
    """A key built from Marketo values → the key as published (hashed columns hashed)."""
    values_converter: Callable[[tuple[str, ...], tuple[str, ...]], ValuesConverter]
    """(a bulk file's header, its JSON columns) → a converter from that file's rows (lists in header order) to
    Avro-ready values in the order of ``avro``'s value fields, column policies applied; built once per header."""
    policy: ColumnPolicy
    """The column policies applied: with ``source`` they rebuild ``values_converter`` elsewhere (``bulk_converter``)."""

    @functools.cached_property
    def name(self) -> str:
        return self.spec.name

    def marketo_fields(self) -> list[str]:
        """Marketo names of the columns still published: what to request where the API takes a field list."""
        published = {f["name"] for f in self.avro.value_schema["fields"]}
        return [
            f["marketo_name"]
            for f in self.source.value_schema["fields"]
            if f["name"] in published and "marketo_name" in f and not f.get("marketo_attribute")
        ]

    @functools.cached_property
    def timestamp_field(self) -> str | None:
        """The published field holding the table's event time (``TableSpec.event_time``), which the sink makes
        the records' Kafka timestamp; None when the table has none, or when a column policy blocks or hashes
        it (its records then carry the time they are produced)."""
        event_time = self.spec.event_time
        if event_time is None:
            return None
        for field in self.avro.value_schema["fields"]:
            if field.get("marketo_name") == event_time and not field.get("marketo_hashed"):
                return str(field["name"])
        return None

    def sink_schema(self) -> TableSchema:
        return TableSchema(
            name=self.spec.name,
            topic_suffix=self.spec.topic_suffix,
            key_schema=self.avro.key_schema,
            value_schema=self.avro.value_schema,
            compacted=self.spec.compacted,
            timestamp_field=self.timestamp_field,
        )


def publish(spec: TableSpec, table: AvroTable, settings: Settings) -> PublishedTable:
    secret = settings.hash.secret.get_secret_value() if settings.hash.secret else None
    policy = policy_for(
        table, blocked_columns=settings.block.columns, hashed_columns=settings.hash.columns, secret=secret
    )
    published = apply_to_table(table, policy)
    to_avro = RowConverter(table.value_schema)
    transform = row_transform(policy)
    key_fields = table.key_fields

    def convert(row: Mapping[str, Any]) -> Row:
        return transform(to_avro(row))

    def key_of(value: Row) -> Row:
        return {name: value[name] for name in key_fields}

    hashed_key_fields = tuple(name for name in key_fields if name in policy.hashed)

    def hash_key(key: Row) -> Row:
        if not hashed_key_fields:
            return key
        return transform(key)

    hashers(policy)  # hashed columns without a secret are refused now, not at the first row

    @functools.cache
    def values_converter(header: tuple[str, ...], json_columns: tuple[str, ...]) -> ValuesConverter:
        return bulk_converter(table.value_schema, policy, header, json_columns)

    return PublishedTable(spec, published, table, convert, key_of, hash_key, values_converter, policy)


def is_blocked(spec: TableSpec, settings: Settings) -> bool:
    return spec.name in settings.block.tables or spec.group in settings.block.groups
