"""PostgreSQL, as a stock sink fills it from a sync's topics, compared with the sandbox's ground truth.

Entity tables: every live key of the truth is a row with equal values (converted by the same ``RowConverter``
the sync uses, under the latest registered schema), no other row exists, and no deleted key is left. Activity
tables: every activity of the truth is a row, and every other row is older than Marketo's retention (a table
keeps what Marketo has since purged, as its topic does). The accepted differences between truth and what a
sync can know are the same as in ``tests/sync/truth.py``; each is explained where it is declared below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from marketo_stream.schema import RowConverter
from marketo_stream.sink import SINK_FIELDS
from tests.connect.warehouse import Warehouse
from tests.sync.topics import key_text, plain
from tests.sync.truth import Difference, latest_value_schema, retention_days, truth, truth_tables

SKIPPED_TABLES = {
    "api_usage",  # changes with every call, the comparison's own included
    "named_account",  # not a table of ours
    "email_template_history",  # keeps every version seen, the truth only the current ones
}


@dataclass(frozen=True)
class Rules:
    """Narrowing of one table's comparison to what the API lets a sync know (see ``compare_entity``)."""

    keep: Callable[[dict[str, Any]], bool] | None = None
    reshape: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    only_columns: frozenset[str] | None = None
    when_known: frozenset[str] = frozenset()


def accepted_rules(sandbox_url: str) -> dict[str, Rules]:
    return {
        # membership dates come from Add to List activities, known only within Marketo's retention
        "list_membership": Rules(when_known=frozenset({"created_at"})),
    }


def table_rows(warehouse: Warehouse, table: str) -> list[dict[str, Any]]:
    """Every row, values as our Avro rows hold them (epoch millis, epoch days); none when the table is absent."""
    with warehouse.connect() as conn:
        exists = conn.execute("SELECT to_regclass(%s) AS found", (f'"{table}"',)).fetchone()
        if exists is None or exists["found"] is None:
            return []
        found = conn.execute(f'SELECT * FROM "{table}"').fetchall()
    return [{k: _as_avro(v) for k, v in row.items()} for row in found]


def _as_avro(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the sink writes UTC into ``timestamp without time zone``
    return plain(value)


def column_types(warehouse: Warehouse, table: str) -> dict[str, str]:
    with warehouse.connect() as conn:
        found = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", (table,)
        ).fetchall()
    return {row["column_name"]: row["data_type"] for row in found}


def compare_entity_table(
    warehouse: Warehouse,
    registry: SchemaRegistryClient,
    sandbox_url: str,
    prefix: str,
    table: str,
    rules: Rules = Rules(),
) -> Difference:
    schema = latest_value_schema(registry, f"{prefix}.{table}")
    convert = RowConverter(schema)
    key_names = list(schema["marketo_key"])
    known = rules.only_columns or {f["name"] for f in schema["fields"]}
    body = truth(sandbox_url, table)
    expected: dict[str, dict[str, Any]] = {}
    for record in body["records"]:
        if rules.keep is not None and not rules.keep(record):
            continue
        value = {k: v for k, v in convert(rules.reshape(record) if rules.reshape else record).items() if k in known}
        expected[key_text({k: value[k] for k in key_names})] = value
    rows = {key_text({k: row[k] for k in key_names}): row for row in table_rows(warehouse, f"{prefix}_{table}")}
    diff = Difference(table)
    diff.missing = sorted(set(expected) - set(rows))
    diff.unexpected = sorted(set(rows) - set(expected))
    for key in sorted(set(expected) & set(rows)):
        got = {k: v for k, v in rows[key].items() if k in known and k not in SINK_FIELDS}
        want = dict(expected[key])
        for column in rules.when_known:
            if got.get(column) is None:
                want[column] = got[column] = None
        if want != got:
            diff.different.append((key, want, got))
    sources = {f["name"]: f.get("marketo_name", f["name"]) for f in schema["fields"]}
    for gone in body.get("deleted_keys", []):
        key = key_text({name: gone.get(sources[name]) for name in key_names})
        if key in rows:
            diff.not_tombstoned.append(key)
    return diff


def compare_activity_table(
    warehouse: Warehouse, sandbox_url: str, prefix: str, table: str
) -> tuple[Difference, tuple[int, int]]:
    """The difference, and (rows of activities the truth still has, activities in the truth)."""
    body = truth(sandbox_url, table)
    want = {str(r["marketoGUID"]) for r in body["records"]}
    dates = {str(r["marketo_guid"]): r["activity_date"] for r in table_rows(warehouse, f"{prefix}_{table}")}
    as_of = int(datetime.fromisoformat(body["as_of"].replace("Z", "+00:00")).timestamp() * 1000)
    cutoff = as_of - retention_days(table) * 86_400_000
    diff = Difference(table)
    diff.missing = sorted(want - set(dates))
    diff.unexpected = sorted(g for g in set(dates) - want if (dates[g] or 0) >= cutoff)
    return diff, (len(set(dates) & want), len(want))


@dataclass(frozen=True)
class Comparison:
    """One look at the warehouse against the truth, kept so later syncs cannot change what a test asserts."""

    entities: Mapping[str, Difference]
    activities: Mapping[str, Difference]
    activity_rows: Mapping[str, tuple[int, int]]
    """Per activity table: (rows of activities the truth holds, activities in the truth)."""

    def failures(self) -> list[str]:
        return [str(d) for d in (*self.entities.values(), *self.activities.values()) if d]


def compare_warehouse(
    warehouse: Warehouse, registry: SchemaRegistryClient, sandbox_url: str, prefix: str
) -> Comparison:
    rules = accepted_rules(sandbox_url)
    entities: dict[str, Difference] = {}
    activities: dict[str, Difference] = {}
    counts: dict[str, tuple[int, int]] = {}
    for table in truth_tables(sandbox_url):
        if table in SKIPPED_TABLES:
            continue
        if table.startswith("activity_") and table != "activity_type":
            activities[table], counts[table] = compare_activity_table(warehouse, sandbox_url, prefix, table)
        else:
            entities[table] = compare_entity_table(
                warehouse, registry, sandbox_url, prefix, table, rules.get(table, Rules())
            )
    return Comparison(entities, activities, counts)
