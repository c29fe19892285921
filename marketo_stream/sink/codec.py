"""Confluent-framed Avro: magic byte 0, the 4-byte big-endian schema id, then the Avro body.

Encoding is the hot path of the sink, so each table gets encoders built once. Values go through
``fastavro.schemaless_writer`` with the parsed schema. Keys are small records of longs, ints and strings
(the primary key); their Avro body is the concatenation of zig-zag varints and length-prefixed UTF-8, which
is written here directly because calling fastavro for a three-byte key costs more than the key itself.
Keys of any other shape fall back to fastavro.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Mapping
from typing import Any

import fastavro

MAGIC = 0
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_ONE_BYTE = tuple(bytes((n,)) for n in range(0x80))

Encoder = Callable[[Mapping[str, Any]], bytes]


def header(schema_id: int) -> bytes:
    return struct.pack(">bI", MAGIC, schema_id)


def schema_id_of(payload: bytes) -> int:
    """The schema id in a framed payload (raises ``ValueError`` on a payload that is not framed)."""
    if len(payload) < 5 or payload[0] != MAGIC:
        raise ValueError("not a Confluent-framed payload")
    return int(struct.unpack(">I", payload[1:5])[0])


def zigzag_varint(value: int) -> bytes:
    """Avro's encoding of an int or long."""
    n = (value << 1) ^ (value >> 63)
    if n < 0x80:
        return _ONE_BYTE[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _encode_long(value: Any) -> bytes:
    if value.__class__ is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise TypeError(f"{value!r} is not an Avro long")
    return zigzag_varint(value)


def _encode_int(value: Any) -> bytes:
    if value.__class__ is not int or not _INT_MIN <= value <= _INT_MAX:
        raise TypeError(f"{value!r} is not an Avro int")
    return zigzag_varint(value)


def _encode_string(value: Any) -> bytes:
    if value.__class__ is not str:
        raise TypeError(f"{value!r} is not an Avro string")
    data = value.encode()
    return zigzag_varint(len(data)) + data


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


def value_encoder(schema_id: int, schema: Mapping[str, Any]) -> Encoder:
    """Encodes a record dict into a framed payload; missing nullable fields take their default."""
    parsed = fastavro.parse_schema(dict(schema))
    prefix = header(schema_id)
    write = fastavro.schemaless_writer

    def encode(record: Mapping[str, Any]) -> bytes:
        buffer = io.BytesIO(prefix)
        buffer.seek(5)
        write(buffer, parsed, record)
        return buffer.getvalue()

    return encode


def key_encoder(schema_id: int, schema: Mapping[str, Any]) -> Encoder:
    """Encodes a key record; direct for records of long/int/string fields, through fastavro otherwise."""
    fields = schema["fields"]
    kinds = [_primitive(f["type"]) for f in fields]
    if not all(kind in _PRIMITIVE_ENCODERS for kind in kinds):
        return value_encoder(schema_id, schema)
    prefix = header(schema_id)
    parts = tuple((f["name"], _PRIMITIVE_ENCODERS[str(kind)]) for f, kind in zip(fields, kinds, strict=True))
    if len(parts) == 1 and kinds[0] == "long":
        ((name, _),) = parts

        def encode_single_long(key: Mapping[str, Any]) -> bytes:
            value = key[name]
            if value.__class__ is not int or not _LONG_MIN <= value <= _LONG_MAX:
                raise TypeError(f"{value!r} is not an Avro long")
            return prefix + zigzag_varint(value)

        return encode_single_long
    if len(parts) == 1:
        ((name, encode_one),) = parts

        def encode_single(key: Mapping[str, Any]) -> bytes:
            return prefix + encode_one(key[name])

        return encode_single

    def encode_composite(key: Mapping[str, Any]) -> bytes:
        return prefix + b"".join([encode(key[name]) for name, encode in parts])

    return encode_composite


def decoder(schema: Mapping[str, Any]) -> Callable[[bytes], Any]:
    """Decodes a framed payload written with ``schema`` (tests and tools; not on the hot path)."""
    parsed = fastavro.parse_schema(dict(schema))
    return lambda payload: fastavro.schemaless_reader(io.BytesIO(payload[5:]), parsed)
