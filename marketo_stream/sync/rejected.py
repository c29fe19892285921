"""Export rows that cannot be published go to the dead-letter topic ``<prefix>._rejected``.

A malformed row (a CSV line that cannot be read, bad JSON in ``attributes``, invalid UTF-8) or a row whose value
does not fit its column becomes one small Avro record there, produced through the writer in the same Kafka
transaction as its window's records: a crash leaves neither, a rerun of the window writes it once more only when
the window itself is written again. The topic keeps its records like an activity topic (time-retained, kept
forever unless a retention is chosen); its leading underscore keeps it out of the Connect patterns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from marketo_stream.sink import TableSchema

REJECTED_TABLE = "_rejected"
"""The sink's name of the dead-letter table; its topic is ``<prefix>._rejected`` (``LONGEST_FIXED_SUFFIX``)."""

_NULLABLE_STRING: list[str] = ["null", "string"]
_NULLABLE_LONG: list[str] = ["null", "long"]

REJECTED_SCHEMA = TableSchema(
    name=REJECTED_TABLE,
    topic_suffix=REJECTED_TABLE,
    key_schema={
        "type": "record",
        "name": "rejected_key",
        "namespace": "marketo_stream",
        "fields": [
            {"name": "table", "type": "string"},
            {"name": "export_id", "type": _NULLABLE_STRING, "default": None},
            {"name": "line", "type": _NULLABLE_LONG, "default": None},
        ],
    },
    value_schema={
        "type": "record",
        "name": "rejected",
        "namespace": "marketo_stream",
        "doc": "An export row that could not be published: its text, where it came from and why.",
        "fields": [
            {"name": "raw", "type": "string", "doc": "The row as read (fields joined as CSV), or as JSON"},
            {"name": "table", "type": "string"},
            {"name": "export_id", "type": _NULLABLE_STRING, "default": None},
            {"name": "line", "type": _NULLABLE_LONG, "default": None, "doc": "Physical line (1-based) in the file"},
            {"name": "reason", "type": "string"},
        ],
    },
    compacted=False,
)


def csv_line(fields: tuple[str, ...] | None) -> str:
    """The fields of a row read from a file joined back as one CSV line (empty when none could be read)."""
    if fields is None:
        return ""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def rejected_record(
    table: str, raw: str, reason: str, *, export_id: str | None = None, line: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The key and value of one dead-letter record."""
    key = {"table": table, "export_id": export_id, "line": line}
    return key, {"raw": raw, "table": table, "export_id": export_id, "line": line, "reason": reason}


def row_text(row: Mapping[str, Any]) -> str:
    return json.dumps(dict(row), default=str, sort_keys=True)
