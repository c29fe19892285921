"""The generated record writer and the encoders built on it write exactly what fastavro writes."""

from __future__ import annotations

import io
import math
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from marketo_stream.sink.avro_writer import UnwritableValue, record_writer, varint
from marketo_stream.sink.codec import header, key_encoder, key_values_encoder, value_encoder, values_encoder

TYPES: dict[str, Any] = {
    "long": "long",
    "int": "int",
    "double": "double",
    "boolean": "boolean",
    "string": "string",
    "timestamp": {"type": "long", "logicalType": "timestamp-millis"},
    "date": {"type": "int", "logicalType": "date"},
}
LONG_EDGES = [0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 2**27, 2**27 - 1, 2**41 - 1, 2**41, -(2**41)]
LONG_EDGES += [2**62, 2**63 - 1, -(2**63), 1_790_000_000_000, -1_790_000_000_000]
INT_EDGES = [0, 1, -1, 8191, 8192, 2**31 - 1, -(2**31), 20_000, -719_162]
TEXTS = ["", "x", "Käufer aus München — wants a demo", "a\u2028b\r\nc", "日本語", "😀" * 3, "é" * 9000, "null"]
DOUBLES = [0.0, -0.0, 1.5, -2.25, 1e308, 5e-324, math.inf, -math.inf, math.nan, 13.37]


def fastavro_bytes(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), record)
    return buffer.getvalue()


def random_value(chance: random.Random, kind: str) -> Any:
    if kind in ("long", "timestamp"):
        return chance.choice([*LONG_EDGES, chance.randrange(-(2**63), 2**63), chance.randrange(-(10**6), 10**6)])
    if kind in ("int", "date"):
        return chance.choice([*INT_EDGES, chance.randrange(-(2**31), 2**31)])
    if kind == "double":
        return chance.choice([*DOUBLES, chance.uniform(-1e9, 1e9)])
    if kind == "boolean":
        return chance.random() < 0.5
    return chance.choice([*TEXTS, random_text(chance)])


def random_text(chance: random.Random) -> str:
    """Any code points but surrogates (which UTF-8 cannot carry)."""
    points = (chance.randrange(0, 0x10FFFF) for _ in range(chance.randrange(0, 12)))
    return "".join(chr(p) for p in points if not 0xD800 <= p < 0xE000)


def random_schema(chance: random.Random, width: int) -> tuple[dict[str, Any], list[tuple[str, bool]]]:
    shape = [(chance.choice(list(TYPES)), chance.random() < 0.7) for _ in range(width)]
    fields = []
    for n, (kind, nullable) in enumerate(shape):
        field: dict[str, Any] = {"name": f"f{n}", "type": ["null", TYPES[kind]] if nullable else TYPES[kind]}
        if nullable:
            field["default"] = None
        fields.append(field)
    return {"type": "record", "name": "Value", "namespace": "t", "fields": fields}, shape


@pytest.mark.parametrize("seed", range(40))
def test_random_records_encode_as_fastavro_encodes_them(seed: int) -> None:
    chance = random.Random(seed)
    schema, shape = random_schema(chance, chance.randrange(1, 40))
    by_values, by_dict = values_encoder(7, schema), value_encoder(7, schema)
    for _ in range(50):
        values = [
            None if nullable and chance.random() < 0.3 else random_value(chance, kind) for kind, nullable in shape
        ]
        record = {f"f{n}": v for n, v in enumerate(values)}
        expected = header(7) + fastavro_bytes(schema, record)
        assert by_values(values) == expected, record
        assert by_dict(record) == expected, record


@pytest.mark.parametrize("n", [*range(0, 300), 2**14 - 1, 2**14, 2**28 - 1, 2**28, 2**42 - 1, 2**42, 2**64 - 1])
def test_varints_match_fastavro_for_every_length(n: int) -> None:
    value = (n >> 1) ^ -(n & 1)  # the long whose zig-zag encoding is n
    assert varint(n) == fastavro_bytes(
        {"type": "record", "name": "L", "fields": [{"name": "x", "type": "long"}]}, {"x": value}
    )


def test_a_long_beyond_64_bits_is_not_written() -> None:
    with pytest.raises(UnwritableValue):
        varint(2**64)


def test_values_fastavro_converts_take_its_path_and_come_out_the_same() -> None:
    schema = {
        "type": "record",
        "name": "V",
        "fields": [
            {"name": "at", "type": ["null", TYPES["timestamp"]], "default": None},
            {"name": "ratio", "type": "double"},
            {"name": "flag", "type": "long"},
        ],
    }
    record = {"at": datetime(2026, 9, 1, 12, 0, tzinfo=UTC), "ratio": 3, "flag": True}
    expected = header(1) + fastavro_bytes(schema, record)
    assert value_encoder(1, schema)(record) == expected
    assert values_encoder(1, schema)(list(record.values())) == expected


@pytest.mark.parametrize(
    ("avro", "value"),
    [
        (["null", "long"], 2**63),
        (["null", "long"], "12"),
        (["null", "long"], True),
        (["null", "boolean"], 1),
        (["null", "string"], 5),
        (["null", "string"], "\ud800"),
        (["null", TYPES["date"]], 2**31),
        ("string", None),
    ],
)
def test_values_fastavro_refuses_are_refused(avro: Any, value: Any) -> None:
    schema = {"type": "record", "name": "V", "fields": [{"name": "a", "type": avro}]}
    with pytest.raises((TypeError, ValueError, OverflowError)):
        fastavro_bytes(schema, {"a": value})
    with pytest.raises((TypeError, ValueError, OverflowError)):
        values_encoder(1, schema)([value])
    with pytest.raises((TypeError, ValueError, OverflowError)):
        value_encoder(1, schema)({"a": value})


def test_missing_fields_take_their_defaults_and_a_missing_required_field_is_an_error() -> None:
    schema = {
        "type": "record",
        "name": "V",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": ["null", "string"], "default": None},
            {"name": "__deleted", "type": "boolean", "default": False},
        ],
    }
    assert value_encoder(2, schema)({"id": 5}) == header(2) + fastavro_bytes(schema, {"id": 5})
    with pytest.raises(ValueError):
        value_encoder(2, schema)({"name": "x"})


def test_fields_after_the_given_ones_are_written_with_their_defaults() -> None:
    schema = {
        "type": "record",
        "name": "V",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "__deleted", "type": "boolean", "default": False},
        ],
    }
    encode = values_encoder(3, schema, given=1)
    assert encode([42]) == header(3) + fastavro_bytes(schema, {"id": 42, "__deleted": False})
    with pytest.raises(ValueError):
        encode([42, True])


@pytest.mark.parametrize(
    "avro",
    [
        ["long", "null"],
        ["null", "string", "long"],
        {"type": "enum", "name": "E", "symbols": ["A", "B"]},
        {"type": "array", "items": "long"},
        "float",
        "bytes",
    ],
)
def test_other_shapes_get_no_generated_writer_and_go_through_fastavro(avro: Any) -> None:
    schema = {"type": "record", "name": "V", "fields": [{"name": "a", "type": avro}, {"name": "b", "type": "long"}]}
    value = {"long": 3, "float": 1.5, "bytes": b"\x01"}.get(str(avro), "A" if "enum" in str(avro) else 3)
    if isinstance(avro, dict) and avro["type"] == "array":
        value = [1, 2]
    assert record_writer(schema) is None
    expected = header(4) + fastavro_bytes(schema, {"a": value, "b": 9})
    assert values_encoder(4, schema)([value, 9]) == expected
    assert value_encoder(4, schema)({"a": value, "b": 9}) == expected


def test_a_record_of_hundreds_of_fields_is_written() -> None:
    schema, shape = random_schema(random.Random(1), 700)
    chance = random.Random(2)
    values = [random_value(chance, kind) for kind, _ in shape]
    record = {f"f{n}": v for n, v in enumerate(values)}
    assert values_encoder(1, schema)(values) == header(1) + fastavro_bytes(schema, record)


@pytest.mark.parametrize(
    "fields",
    [
        [{"name": "marketo_guid", "type": "string"}],
        [{"name": "id", "type": "long"}],
        [
            {"name": "program_id", "type": "long"},
            {"name": "day", "type": TYPES["date"]},
            {"name": "s", "type": "string"},
        ],
        [{"name": "flag", "type": "boolean"}],
    ],
)
def test_keys_given_as_values_encode_as_keys_given_as_dicts(fields: list[dict[str, Any]]) -> None:
    schema = {"type": "record", "name": "Key", "fields": fields}
    samples = {"string": "20729006743", "long": -(2**40), "int": 20_000, "boolean": True}
    values = [samples[f["type"] if isinstance(f["type"], str) else f["type"]["type"]] for f in fields]
    by_name = {f["name"]: v for f, v in zip(fields, values, strict=True)}
    assert key_values_encoder(9, schema)(values) == key_encoder(9, schema)(by_name)
    assert key_values_encoder(9, schema)(values) == header(9) + fastavro_bytes(schema, by_name)


DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}
DECIMALS = ["0.00", "0.01", "-0.01", "1.27", "1.28", "-1.28", "-1.29", "12345678.91", "-9999999999999999.99"]


@pytest.mark.parametrize("text", DECIMALS)
def test_a_decimal_field_is_written_as_fastavro_writes_it(text: str) -> None:
    schema = {
        "type": "record",
        "name": "Money",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "amount", "type": ["null", DECIMAL]},
            {"name": "tax", "type": DECIMAL},
        ],
    }
    write = record_writer(schema)
    assert write is not None
    for amount in (Decimal(text), None):
        record = {"id": 7, "amount": amount, "tax": Decimal(text)}
        assert write([7, amount, Decimal(text)]) == fastavro_bytes(schema, record)


def test_a_decimal_of_another_scale_is_left_to_fastavro() -> None:
    schema = {"type": "record", "name": "Money", "fields": [{"name": "amount", "type": ["null", DECIMAL]}]}
    write = record_writer(schema)
    assert write is not None
    with pytest.raises(UnwritableValue):
        write([Decimal("1.005")])
    with pytest.raises(UnwritableValue):
        write([1.5])
    encode = values_encoder(1, schema)
    assert encode([Decimal("1.5")]) == header(1) + fastavro_bytes(schema, {"amount": Decimal("1.5")})
