"""The simulator's ground truth in the shape our topics have, and a table-by-table comparison with them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.schema import RowConverter
from tests.sync.topics import TopicReader, key_text


def truth(sandbox_url: str, table: str) -> dict[str, Any]:
    answer = requests.get(f"{sandbox_url}/_sandbox/truth/{table}", timeout=120)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def truth_tables(sandbox_url: str) -> list[str]:
    answer = requests.get(f"{sandbox_url}/_sandbox/truth", timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return list(body.get("tables", body))


def latest_value_schema(registry: SchemaRegistryClient, topic: str) -> dict[str, Any]:
    registered = registry.get_latest_version(f"{topic}-value")
    schema: dict[str, Any] = json.loads(registered.schema.schema_str)
    return schema


@dataclass
class Difference:
    table: str
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    different: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    not_tombstoned: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.different or self.not_tombstoned)

    def __str__(self) -> str:
        parts = [f"{self.table}:"]
        for label, items in (
            ("missing", self.missing),
            ("unexpected", self.unexpected),
            ("not tombstoned", self.not_tombstoned),
        ):
            if items:
                parts.append(f"  {label} ({len(items)}): {items[:5]}")
        for key, want, got in self.different[:3]:
            diff = {k: (want.get(k), got.get(k)) for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)}
            parts.append(f"  different {key}: {diff}")
        if len(self.different) > 3:
            parts.append(f"  ... {len(self.different)} rows differ")
        return "\n".join(parts)


def compare_entity(
    reader: TopicReader,
    registry: SchemaRegistryClient,
    sandbox_url: str,
    prefix: str,
    table: str,
    *,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    reshape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    only_columns: set[str] | None = None,
) -> Difference:
    """The topic's compacted view equals the truth: live keys with equal values, deleted keys tombstoned.

    ``keep`` narrows the truth to what the API lets a sync discover, ``reshape`` maps a truth record of another
    shape to the API's, ``only_columns`` limits the value comparison; each use is explained where it is made.
    """
    topic = f"{prefix}.{table}"
    schema = latest_value_schema(registry, topic)
    convert = RowConverter(schema)
    key_names = list(schema["marketo_key"])
    known = only_columns or {f["name"] for f in schema["fields"]}
    body = truth(sandbox_url, table)
    expected: dict[str, dict[str, Any]] = {}
    for record in body["records"]:
        if keep is not None and not keep(record):
            continue
        value = {k: v for k, v in convert(reshape(record) if reshape else record).items() if k in known}
        expected[key_text({k: value[k] for k in key_names})] = value
    view = reader.latest(topic)
    diff = Difference(table)
    live = {k: v for k, v in view.items() if v is not None}
    diff.missing = sorted(set(expected) - set(live))
    diff.unexpected = sorted(set(live) - set(expected))
    for key in sorted(set(expected) & set(live)):
        got = {k: v for k, v in (live[key] or {}).items() if k in known and k != "__deleted"}
        if expected[key] != got:
            diff.different.append((key, expected[key], got))
    for gone in body.get("deleted_keys", []):
        published_key = key_text({name: _key_value(gone, schema, name) for name in key_names})
        if published_key in view and view[published_key] is not None:
            diff.not_tombstoned.append(published_key)
    return diff


def _key_value(record: dict[str, Any], schema: dict[str, Any], name: str) -> Any:
    for f in schema["fields"]:
        if f["name"] == name:
            return record.get(f.get("marketo_name", name))
    return None


def compare_activities(reader: TopicReader, sandbox_url: str, prefix: str, table: str) -> tuple[Difference, int]:
    """Every activity of the truth published exactly once (by marketoGUID); returns the duplicates count too."""
    body = truth(sandbox_url, table)
    want = {str(r["marketoGUID"]) for r in body["records"]}
    topic = f"{prefix}.{table}"
    records = reader.read(topic) if want or topic in reader.topics(prefix) else []
    got = [str(r.key["marketo_guid"]) for r in records]
    diff = Difference(table)
    diff.missing = sorted(want - set(got))
    diff.unexpected = sorted(set(got) - want)
    return diff, len(got) - len(set(got))
