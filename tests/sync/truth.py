"""The simulator's ground truth in the shape our topics have, and a table-by-table comparison with them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.schema import RowConverter
from marketo_stream.sink import SINK_FIELDS
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
    when_known: set[str] = frozenset(),  # type: ignore[assignment]
) -> Difference:
    """The topic's compacted view equals the truth: live keys with equal values, deleted keys tombstoned.

    ``keep`` narrows the truth to what the API lets a sync discover, ``reshape`` maps a truth record of another
    shape to the API's, ``only_columns`` limits the value comparison, ``when_known`` names columns compared only
    where the sync could know them (not null); each use is explained where it is made.
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
        got = {k: v for k, v in (live[key] or {}).items() if k in known and k not in SINK_FIELDS}
        want = dict(expected[key])
        for column in when_known:
            if got.get(column) is None:
                want[column] = got[column] = None
        if want != got:
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


HIGH_VOLUME = {
    "activity_visit_webpage", "activity_click_link", "activity_add_to_list", "activity_change_score",
    "activity_change_data_value", "activity_sync_lead_to_sfdc", "activity_sync_lead_to_microsoft",
    "activity_sync_lead_updates_to_sfdc", "activity_update_opportunity", "activity_request_campaign",
    "activity_send_email", "activity_email_delivered",
}  # fmt: skip
"""Marketo keeps these 90 days, Delete Lead 14 days, the rest 25 months (shared/marketo-api.md, gotcha 7)."""


def retention_days(table: str) -> int:
    if table == "activity_delete_lead":
        return 14
    return 90 if table in HIGH_VOLUME else 760


def compare_activities(reader: TopicReader, sandbox_url: str, prefix: str, table: str) -> tuple[Difference, int]:
    """Every activity of the truth published exactly once (by marketoGUID); returns the duplicates count too.

    An activity topic is a stream: what Marketo has since purged under its retention stays published, so a
    published activity missing from the truth is unexpected only when it is younger than that retention.
    """
    body = truth(sandbox_url, table)
    want = {str(r["marketoGUID"]) for r in body["records"]}
    topic = f"{prefix}.{table}"
    records = reader.read(topic) if want or topic in reader.topics(prefix) else []
    got = [str(r.key["marketo_guid"]) for r in records]
    dates = {str(r.key["marketo_guid"]): (r.value or {}).get("activity_date") for r in records}
    as_of = int(datetime.fromisoformat(body["as_of"].replace("Z", "+00:00")).timestamp() * 1000)
    cutoff = as_of - retention_days(table) * 86_400_000
    diff = Difference(table)
    diff.missing = sorted(want - set(got))
    diff.unexpected = sorted(g for g in set(got) - want if (dates.get(g) or 0) >= cutoff)
    return diff, len(got) - len(set(got))
