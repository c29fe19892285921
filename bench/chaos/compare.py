"""Field-by-field comparison of a run's topics with an uninterrupted run of the same world, and with the truth.

Entity tables are compared in their compacted view (the last value per key; a tombstone and a key never
published are the same to a consumer of a compacted topic); stream tables (activities, rejected rows) as
multisets of records, so a record published twice is a mismatch. A mismatch is counted per (table, field):
a field name for a value that differs, or one of the bracketed kinds below for a record or key.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.sync.topics import Published, key_text

EXCLUDED_FIELDS = {
    "_synced_at": "when the transaction that published the record began (a run's own time)",
}
"""Value fields that differ between runs by design; never compared."""
EXCLUDED_HEADERS = {
    "marketo_stream.run_id": "the id of the run that published the record",
}
"""Record headers that differ by design; headers are not read back at all (named here for the report)."""
EXCLUDED_TABLES = {
    "_state": "the sync's own bookkeeping (rate-window calls, run ids, effects); checked by what it leads to",
    "api_usage": "Marketo's call counts, which include every call of the killed runs, reruns and the comparison",
}
"""Tables that differ by design; never compared."""

MISSING_KEY = "[missing key]"
UNEXPECTED_KEY = "[unexpected key]"
MISSING_RECORD = "[missing record]"
EXTRA_RECORD = "[extra record]"


def is_stream(table: str) -> bool:
    """Activity topics and the rejected rows are streams: every record counts, not only the last per key."""
    return (table.startswith("activity_") and table != "activity_type") or table == "_rejected"


@dataclass
class Comparison:
    """Mismatches counted by (table, field), with a few examples to show."""

    mismatches: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, table: str, what: str, example: str) -> None:
        self.mismatches[(table, what)] += 1
        if len(self.examples) < 8:
            self.examples.append(f"{table} {what}: {example}"[:400])

    def __bool__(self) -> bool:
        return bool(self.mismatches)


def tables_of(records: dict[str, list[Published]], prefix: str) -> dict[str, list[Published]]:
    """Topic records keyed by table name, the excluded tables left out."""
    start = len(prefix) + 1
    return {topic[start:]: rows for topic, rows in records.items() if topic[start:] not in EXCLUDED_TABLES}


def _value(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: v for k, v in value.items() if k not in EXCLUDED_FIELDS}


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def compare_tables(reference: dict[str, list[Published]], run: dict[str, list[Published]]) -> Comparison:
    """Every table of either side compared, ``reference`` being the uninterrupted run."""
    found = Comparison()
    for table in sorted(set(reference) | set(run)):
        want, got = reference.get(table, []), run.get(table, [])
        if is_stream(table):
            _compare_stream(found, table, want, got)
        else:
            _compare_latest(found, table, want, got)
    return found


def _compare_stream(found: Comparison, table: str, want: Iterable[Published], got: Iterable[Published]) -> None:
    expected = Counter(_text([r.key, _value(r.value)]) for r in want)
    published = Counter(_text([r.key, _value(r.value)]) for r in got)
    for record, n in (expected - published).items():
        for _ in range(n):
            found.add(table, MISSING_RECORD, record)
    for record, n in (published - expected).items():
        for _ in range(n):
            found.add(table, EXTRA_RECORD, record)


def latest(records: Iterable[Published]) -> dict[str, dict[str, Any]]:
    """The compacted view without tombstoned keys."""
    view: dict[str, dict[str, Any] | None] = {}
    for r in records:
        view[key_text(r.key)] = _value(r.value)
    return {k: v for k, v in view.items() if v is not None}


def _compare_latest(found: Comparison, table: str, want: Iterable[Published], got: Iterable[Published]) -> None:
    expected, published = latest(want), latest(got)
    for key in sorted(set(expected) - set(published)):
        found.add(table, MISSING_KEY, key)
    for key in sorted(set(published) - set(expected)):
        found.add(table, UNEXPECTED_KEY, key)
    for key in sorted(set(expected) & set(published)):
        a, b = expected[key], published[key]
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                found.add(table, name, f"{key}: {a.get(name)!r} -> {b.get(name)!r}")


def truth_mismatches(differences: list[str]) -> Comparison:
    """The truth comparers' findings (``tests/sync/test_end_to_end.differences``), counted by table and kind."""
    found = Comparison()
    for text in differences:
        table = text.split(":", 1)[0]
        kinds = [k for k in ("missing", "unexpected", "not tombstoned", "different", "more than once") if k in text]
        for kind in kinds or ["differs"]:
            found.add(table, f"[truth: {kind}]", text.replace("\n", " "))
    return found
