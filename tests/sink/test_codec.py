"""Confluent framing and the direct key encoder agree with fastavro byte for byte."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest

from marketo_stream.sink.codec import decoder, header, key_encoder, schema_id_of, value_encoder

KEYS: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "long": (
        {"type": "record", "name": "Key", "fields": [{"name": "id", "type": "long"}]},
        [{"id": n} for n in (0, 1, -1, 63, 64, -65, 127, 128, 300, 2**31, -(2**40), 2**63 - 1, -(2**63))],
    ),
    "string": (
        {"type": "record", "name": "Key", "fields": [{"name": "marketo_guid", "type": "string"}]},
        [{"marketo_guid": s} for s in ("", "783958220", "dff23271-f996-47d7", "é" * 70, "日本")],
    ),
    "composite with a logical date": (
        {
            "type": "record",
            "name": "Key",
            "fields": [
                {"name": "program_id", "type": "long"},
                {"name": "start_date", "type": {"type": "int", "logicalType": "date"}},
                {"name": "note", "type": "string"},
            ],
        },
        [
            {"program_id": 1107, "start_date": 16801, "note": "Google Adwords"},
            {"program_id": 1, "start_date": -3, "note": ""},
        ],
    ),
}


def _fastavro(schema_id: int, schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(header(schema_id))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), record)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", KEYS)
def test_direct_key_encoding_equals_fastavro(kind: str) -> None:
    schema, keys = KEYS[kind]
    encode = key_encoder(258, schema)
    for key in keys:
        assert encode(key) == _fastavro(258, schema, key), key


def test_key_records_of_other_types_fall_back_to_fastavro() -> None:
    schema = {"type": "record", "name": "Key", "fields": [{"name": "flag", "type": "boolean"}]}
    assert key_encoder(3, schema)({"flag": True}) == _fastavro(3, schema, {"flag": True})


@pytest.mark.parametrize("bad", [{"id": "1"}, {"id": 2**63}, {"id": True}, {"id": 1.0}])
def test_the_direct_key_encoder_refuses_values_that_are_not_avro_longs(bad: dict[str, Any]) -> None:
    schema = KEYS["long"][0]
    with pytest.raises(TypeError):
        key_encoder(1, schema)(bad)


def test_values_are_framed_with_magic_byte_and_big_endian_schema_id() -> None:
    schema = {"type": "record", "name": "V", "fields": [{"name": "a", "type": ["null", "string"], "default": None}]}
    payload = value_encoder(0x01020304, schema)({"a": "x"})
    assert payload[:5] == b"\x00\x01\x02\x03\x04"
    assert schema_id_of(payload) == 0x01020304
    assert decoder(schema)(payload) == {"a": "x"}
    assert decoder(schema)(value_encoder(9, schema)({})) == {"a": None}, "missing nullable fields are null"


def test_an_unframed_payload_is_recognised() -> None:
    with pytest.raises(ValueError):
        schema_id_of(b"\x01\x00\x00\x00\x01")
