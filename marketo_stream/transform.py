"""Operator column policies: blocked columns vanish, hashed columns become a keyed HMAC.

Both act on the table's schema (so the registered schema never shows a blocked column, and a hashed one is a
string) and on every row after conversion (so no plaintext reaches Kafka). Hashing is HMAC-SHA-256 with
the configured secret over the value's canonical text, hex-encoded: the same value hashes alike across runs
and tables, and a tombstone's hashed key equals its record's.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from marketo_stream.errors import ConfigError
from marketo_stream.schema import AvroTable, ValuesConverter, positional_converter

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ColumnPolicy:
    blocked: frozenset[str] = frozenset()
    hashed: frozenset[str] = frozenset()
    secret: bytes | None = None

    def is_noop(self) -> bool:
        return not self.blocked and not self.hashed


def resolve_columns(table: AvroTable, wanted: list[str], what: str) -> frozenset[str]:
    """Configured names may be the published (Avro) name or Marketo's; unknown names are an error."""
    by_marketo = {f.get("marketo_name"): f["name"] for f in table.value_schema["fields"]}
    published = {f["name"] for f in table.value_schema["fields"]}
    found: set[str] = set()
    for name in wanted:
        if name in published:
            found.add(name)
        elif name in by_marketo:
            found.add(by_marketo[name])
        else:
            raise ConfigError(
                f"{what}.{table.name}: no column {name!r} in table {table.name}; columns are: "
                f"{', '.join(sorted(published))}"
            )
    return frozenset(found)


def apply_to_table(table: AvroTable, policy: ColumnPolicy) -> AvroTable:
    """The table as published under the policy: blocked fields dropped, hashed fields typed string."""
    if policy.is_noop():
        return table
    blocked_keys = policy.blocked & set(table.key_fields)
    if blocked_keys:
        raise ConfigError(
            f"block.columns.{table.name}: key column(s) {', '.join(sorted(blocked_keys))} cannot be blocked "
            f"(hash them instead: hash.columns.{table.name})"
        )
    value = copy.deepcopy(table.value_schema)
    value["fields"] = [_hashed_field(f, policy) for f in value["fields"] if f["name"] not in policy.blocked]
    key = copy.deepcopy(table.key_schema)
    key["fields"] = [_hashed_field(f, policy) for f in key["fields"]]
    return replace(table, value_schema=value, key_schema=key)


def _hashed_field(field: dict[str, Any], policy: ColumnPolicy) -> dict[str, Any]:
    if field["name"] not in policy.hashed:
        return field
    nullable = isinstance(field["type"], list) and "null" in field["type"]
    out = {k: v for k, v in field.items() if k not in ("type", "default")}
    if nullable:
        out["type"] = ["null", "string"]
        out["default"] = None
    else:
        out["type"] = "string"
    out["marketo_hashed"] = True
    return out


def hmac_hex(secret: bytes, value: Any) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def hashers(policy: ColumnPolicy) -> dict[str, Callable[[Any], str]]:
    """Per hashed column, the function its non-null values go through: for converters that apply the policy
    value by value instead of row by row (``row_transform``)."""
    if policy.hashed and not policy.secret:
        raise ConfigError("hash.secret: columns are configured to be hashed but no secret is set")
    secret = policy.secret or b""
    return {name: partial(hmac_hex, secret) for name in policy.hashed}


def bulk_converter(
    value_schema: Mapping[str, Any], policy: ColumnPolicy, header: tuple[str, ...], json_columns: tuple[str, ...]
) -> ValuesConverter:
    """Rows of a bulk file with ``header`` (lists in header order) → the published values of a table whose schema
    before the policy is ``value_schema``: blocked fields left out, hashed ones hashed. A function of plain data,
    so a row worker process builds the very converter the sync process would."""
    return positional_converter(
        value_schema, header, json_columns=json_columns, omit=policy.blocked, finish=hashers(policy)
    )


def row_transform(policy: ColumnPolicy) -> Callable[[Row], Row]:
    """A per-row function for the policy; the identity when there is nothing to do."""
    if policy.is_noop():
        return _identity
    hashed = tuple(hashers(policy).items())
    blocked = policy.blocked

    def transform(row: Row) -> Row:
        out = {k: v for k, v in row.items() if k not in blocked} if blocked else dict(row)
        for name, hash_value in hashed:
            value = out.get(name)
            if value is not None:
                out[name] = hash_value(value)
        return out

    return transform


def _identity(row: Row) -> Row:
    return row


def policy_for(
    table: AvroTable,
    *,
    blocked_columns: Mapping[str, list[str]],
    hashed_columns: Mapping[str, list[str]],
    secret: str | None,
) -> ColumnPolicy:
    blocked = resolve_columns(table, blocked_columns.get(table.name, []), "block.columns")
    hashed = resolve_columns(table, hashed_columns.get(table.name, []), "hash.columns")
    return ColumnPolicy(blocked=blocked, hashed=hashed, secret=secret.encode() if secret else None)
