"""Record timestamps: when an event happened for event streams, the time of producing for everything else.

Kafka stamps every record (CreateTime). Consumers and Connect sinks read it as the record's time, and
time-based retention deletes a segment once its newest timestamp is old enough, so an event record stamped
with the moment a backfill produced it would be kept, and reported, as if it had just happened. A table
names the value field holding its event time (``TableSchema.timestamp_field``); the sink resolves it to a
position once, at prepare time, and each record then passes that value as ``timestamp=``. ``0`` asks
librdkafka for the current time: what entity records, tombstones and state records carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCE_TIME = 0
"""librdkafka's "now": the timestamp of records that carry no event time."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLI = timedelta(milliseconds=1)


def _is_long(avro: Any) -> bool:
    if isinstance(avro, list):
        branches = [branch for branch in avro if branch != "null"]
        return len(branches) == 1 and _is_long(branches[0])
    if isinstance(avro, Mapping):
        return avro.get("type") == "long"
    return bool(avro == "long")


def timestamp_position(table: str, value_schema: Mapping[str, Any], field: str) -> int:
    """The position of ``field`` among the value schema's fields; it must be a (nullable) long, in milliseconds.

    A table declaring a field it does not have, or one of another type, is a bug in the caller's catalog: it
    is refused before anything is produced rather than stamping records with the produce time unnoticed.
    """
    for position, candidate in enumerate(value_schema["fields"]):
        if candidate["name"] == field:
            if not _is_long(candidate["type"]):
                raise ValueError(f"table {table!r}: timestamp field {field!r} is not a long of milliseconds")
            return position
    raise ValueError(f"table {table!r}: timestamp field {field!r} is not among its value fields")


def event_millis(value: Any) -> int:
    """A timestamp field's value as a record timestamp, for values that are not already ints (the callers test
    for ``int`` inline, which is what converters hand over): ``None`` is produce time; an aware datetime (as
    fastavro also accepts for ``timestamp-millis``) is converted."""
    if value is None:
        return PRODUCE_TIME
    if isinstance(value, datetime) and value.tzinfo is not None:
        return (value - _EPOCH) // _MILLI
    raise TypeError(f"{value!r} is not a timestamp in milliseconds")
