"""Confluent-framed Avro: magic byte 0, the 4-byte big-endian schema id, then the Avro body.

Encoding is the hot path of the sink, so each table gets encoders built once. Values of flat records go
through a writer generated for their schema (``avro_writer``), several times faster than fastavro; a value
that writer does not take as is, and every schema of another shape, goes through
``fastavro.schemaless_writer``, so the bytes (and the errors) are always fastavro's. Values come as dicts
(``value_encoder``) or, cheaper, as a sequence in schema field order (``values_encoder``). Keys are small
records of longs, ints and strings (the primary key); their Avro body is the concatenation of zig-zag varints
and length-prefixed UTF-8, which is written here directly because calling fastavro for a three-byte key costs
more than the key itself. Keys of any other shape fall back to fastavro.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import fastavro

from marketo_stream.sink.avro_writer import keyed_record_writer, record_writer, varint
from marketo_stream.sink.timestamps import PRODUCE_TIME, event_millis

MAGIC = 0
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

Encoder = Callable[[Mapping[str, Any]], bytes]
ValuesEncoder = Callable[[Sequence[Any]], bytes]
RecordEncoder = Callable[[Sequence[Any]], tuple[bytes, bytes]]
TimedRecordEncoder = Callable[[Sequence[Any]], tuple[bytes, bytes, int]]


def header(schema_id: int) -> bytes:
    return struct.pack(">bI", MAGIC, schema_id)


def schema_id_of(payload: bytes) -> int:
    """The schema id in a framed payload (raises ``ValueError`` on a payload that is not framed)."""
    if len(payload) < 5 or payload[0] != MAGIC:
        raise ValueError("not a Confluent-framed payload")
    return int(struct.unpack(">I", payload[1:5])[0])


def _encode_long(value: Any) -> bytes:
    if value.__class__ is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise TypeError(f"{value!r} is not an Avro long")
    return varint((value << 1) ^ (value >> 63))


def _encode_int(value: Any) -> bytes:
    if value.__class__ is not int or not _INT_MIN <= value <= _INT_MAX:
        raise TypeError(f"{value!r} is not an Avro int")
    return varint((value << 1) ^ (value >> 63))


def _encode_string(value: Any) -> bytes:
    if value.__class__ is not str:
        raise TypeError(f"{value!r} is not an Avro string")
    data = value.encode()
    return varint(len(data) << 1) + data


_PRIMITIVE_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "long": _encode_long,
    "int": _encode_int,
    "string": _encode_string,
}


def _primitive(avro: Any) -> str | None:
    if isinstance(avro, str):
        return avro
    if isinstance(avro, dict) and isinstance(avro.get("type"), str):
        return str(avro["type"])  # a logical type over a primitive encodes as the primitive
    return None


def _fastavro_encoder(schema_id: int, schema: Mapping[str, Any]) -> Encoder:
    parsed = fastavro.parse_schema(dict(schema))
    prefix = header(schema_id)
    write = fastavro.schemaless_writer

    def encode(record: Mapping[str, Any]) -> bytes:
        buffer = io.BytesIO(prefix)
        buffer.seek(5)
        write(buffer, parsed, record)
        return buffer.getvalue()

    return encode


def _defaults(fields: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple((f["name"], f.get("default")) for f in fields)


def value_encoder(schema_id: int, schema: Mapping[str, Any]) -> Encoder:
    """Encodes a record dict into a framed payload; missing fields take their default."""
    slow = _fastavro_encoder(schema_id, schema)
    write = record_writer(schema, prefix=header(schema_id))
    if write is None:
        return slow
    fields = _defaults(schema["fields"])

    def encode(record: Mapping[str, Any]) -> bytes:
        get = record.get
        try:
            return write([get(name, default) for name, default in fields])
        except (TypeError, ValueError):
            return slow(record)

    return encode


def _defaults_suffix(schema: Mapping[str, Any], given: int) -> bytes | None:
    """The bytes of the defaults of the fields after the first ``given``; None when the writer cannot write them."""
    tail = schema["fields"][given:]
    if not tail:
        return b""
    rest = record_writer({**schema, "fields": tail})
    try:
        return rest([default for _, default in _defaults(tail)]) if rest is not None else None
    except (TypeError, ValueError):
        return None


def values_encoder(schema_id: int, schema: Mapping[str, Any], given: int | None = None) -> ValuesEncoder:
    """Encodes the values of the first ``given`` fields (all by default), in schema order, into a framed payload;
    the fields after them take their defaults (e.g. a flag the sink appends to the caller's schema)."""
    fields = schema["fields"]
    given = len(fields) if given is None else given
    names = tuple(f["name"] for f in fields[:given])
    slow = _fastavro_encoder(schema_id, schema)

    def encode_slowly(values: Sequence[Any]) -> bytes:
        return slow(dict(zip(names, values, strict=True)))

    suffix = _defaults_suffix(schema, given)
    if suffix is None:
        return encode_slowly
    head = {**schema, "fields": fields[:given]}
    write = record_writer(head, prefix=header(schema_id), suffix=suffix, otherwise=encode_slowly)
    return write or encode_slowly


def record_encoder(
    key_id: int, key_schema: Mapping[str, Any], value_id: int, value_schema: Mapping[str, Any], given: int | None = None
) -> RecordEncoder | None:
    """Encodes a record given as its values (as ``values_encoder``) into its framed key and value, the key made of
    the value's fields of the key's names; None when the key has a field the value does not. Where those fields
    have the same types in both, each is written once for both."""
    fields = value_schema["fields"][:given]
    names = [f["name"] for f in fields]
    key_fields = key_schema["fields"]
    if not all(f["name"] in names for f in key_fields):
        return None
    positions = [names.index(f["name"]) for f in key_fields]
    encode_key = key_values_encoder(key_id, key_schema)
    encode_value = values_encoder(value_id, value_schema, given)

    def encode_separately(values: Sequence[Any]) -> tuple[bytes, bytes]:
        return encode_key([values[i] for i in positions]), encode_value(values)

    suffix = _defaults_suffix(value_schema, len(fields))
    if suffix is None or any(k["type"] != fields[i]["type"] for k, i in zip(key_fields, positions, strict=True)):
        return encode_separately
    write = keyed_record_writer(
        {**value_schema, "fields": fields},
        positions,
        key_prefix=header(key_id),
        prefix=header(value_id),
        suffix=suffix,
        otherwise=encode_separately,
    )
    return write or encode_separately


def _direct_key_parts(schema: Mapping[str, Any]) -> tuple[tuple[str, Callable[[Any], bytes]], ...] | None:
    """(name, encoder) per key field when every field is a long, int or string; None otherwise."""
    kinds = [_primitive(f["type"]) for f in schema["fields"]]
    if not all(kind in _PRIMITIVE_ENCODERS for kind in kinds):
        return None
    return tuple((f["name"], _PRIMITIVE_ENCODERS[str(kind)]) for f, kind in zip(schema["fields"], kinds, strict=True))


def key_encoder(schema_id: int, schema: Mapping[str, Any]) -> Encoder:
    """Encodes a key record; direct for records of long/int/string fields, through fastavro otherwise."""
    parts = _direct_key_parts(schema)
    if parts is None:
        return value_encoder(schema_id, schema)
    prefix = header(schema_id)
    if len(parts) == 1:
        ((name, encode_one),) = parts

        def encode_single(key: Mapping[str, Any]) -> bytes:
            return prefix + encode_one(key[name])

        return encode_single

    def encode_composite(key: Mapping[str, Any]) -> bytes:
        return prefix + b"".join([encode(key[name]) for name, encode in parts])

    return encode_composite


def key_values_encoder(schema_id: int, schema: Mapping[str, Any]) -> ValuesEncoder:
    """``key_encoder`` for the key's values in field order: the generated writer, as strict as ``key_encoder``
    (a value of another type raises ``TypeError``); fastavro for other shapes."""
    return record_writer(schema, prefix=header(schema_id)) or values_encoder(schema_id, schema)


def decoder(schema: Mapping[str, Any]) -> Callable[[bytes], Any]:
    """Decodes a framed payload written with ``schema`` (tests and tools; not on the hot path)."""
    parsed = fastavro.parse_schema(dict(schema))
    return lambda payload: fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)


@dataclass(frozen=True)
class RecordEncoding:
    """How a prepared table's records are encoded, as plain data: the schema ids are known once the table is
    registered, so another process (the row workers) can encode its records to the very bytes the sink would.
    ``value_schema`` holds the table's own fields; the sink appends its fields' bytes when it produces."""

    table: str
    key_id: int
    key_schema: Mapping[str, Any]
    value_id: int
    value_schema: Mapping[str, Any]
    timestamp_at: int | None
    """The position of the event-time field among the values (``timestamp_position``), None: produce time."""

    def encoder(self) -> TimedRecordEncoder:
        """Values in the order of ``value_schema``'s fields → (framed key, framed value of the table's own fields,
        record timestamp). Raises ``TypeError``/``ValueError``/``KeyError``/``AttributeError`` on a value the
        schema does not take, as ``Batch.upsert_values`` does before it wraps them in ``RecordEncodingError``."""
        encode = record_encoder(self.key_id, self.key_schema, self.value_id, self.value_schema)
        if encode is None:
            raise KeyError(f"the key fields of {self.table} are not among its value fields")
        at = self.timestamp_at
        if at is None:

            def untimed(values: Sequence[Any]) -> tuple[bytes, bytes, int]:
                return (*encode(values), PRODUCE_TIME)

            return untimed

        def timed(values: Sequence[Any]) -> tuple[bytes, bytes, int]:
            key, value = encode(values)
            timestamp = values[at]
            return key, value, timestamp if timestamp.__class__ is int else event_millis(timestamp)

        return timed
