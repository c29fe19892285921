"""The fields and headers the sink adds to every table's records, which are not Marketo's.

``__deleted`` (with ``delete_mode`` soft or both) flags the record of a deleted key; ``_synced_at`` (every value)
is when the transaction that published the record began; the headers ``marketo_stream.run_id`` and
``marketo_stream.table`` name the run and the source table. ``_synced_at`` and the run id differ between runs by
design. The added fields follow the table's own, so their bytes (``sink_fields_tail``) are appended to the bytes
the table's encoders write: an Avro record is its fields' bytes in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketo_stream.sink.avro_writer import varint

DELETED_FIELD = "__deleted"
SYNCED_AT_FIELD = "_synced_at"
SINK_FIELDS = (DELETED_FIELD, SYNCED_AT_FIELD)
"""Value fields the sink adds to every table's schema (after the table's own): they are not Marketo's."""
RUN_ID_HEADER = "marketo_stream.run_id"
TABLE_HEADER = "marketo_stream.table"


def with_delete_flag(value_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The value schema plus ``__deleted`` (boolean, default false), set only on delete markers."""
    fields = list(value_schema["fields"])
    if not any(f["name"] == DELETED_FIELD for f in fields):
        fields.append(
            {"name": DELETED_FIELD, "type": "boolean", "default": False, "doc": "true on the record of a deleted key"}
        )
    return {**value_schema, "fields": fields}


def with_sink_fields(value_schema: Mapping[str, Any], delete_flag: bool) -> dict[str, Any]:
    """The value schema as published: the table's fields, ``__deleted`` when deletes are flagged, ``_synced_at``."""
    flagged = with_delete_flag(value_schema) if delete_flag else dict(value_schema)
    fields = [f for f in flagged["fields"] if f["name"] != SYNCED_AT_FIELD]
    fields.append(
        {
            "name": SYNCED_AT_FIELD,
            "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
            "default": None,
            "doc": "when the run published this record (differs between runs by design)",
        }
    )
    return {**flagged, "fields": fields}


def sink_fields_tail(synced_at_ms: int, delete_flag: bool, deleted: bool = False) -> bytes:
    """The Avro bytes of the fields ``with_sink_fields`` appends: a record's body is its fields' bytes in
    order, so these follow the bytes of the table's own fields."""
    synced = b"\x02" + varint((synced_at_ms << 1) ^ (synced_at_ms >> 63))
    if not delete_flag:
        return synced
    return (b"\x01" if deleted else b"\x00") + synced
