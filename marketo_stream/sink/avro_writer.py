"""Avro binary bodies of flat records, written by a function generated once per schema.

fastavro spends about a microsecond per call and 0.4 µs per nullable field resolving the union, which makes
it the most expensive step of publishing a bulk row. The records this project publishes are flat: fields of
``null``, ``boolean``, ``int``, ``long``, ``double`` and ``string`` (logical types over them included) and
``bytes`` decimals (Marketo currency, written from ``Decimal`` values as fastavro writes them), each
either bare or in a ``["null", T]`` union. For such a schema :func:`record_writer` generates straight-line
Python (one block per field, no per-field call, varints from lookup tables), several times faster, and
:func:`keyed_record_writer` writes the key record from the same values in the same pass.

The generated writer takes only exact types (``int`` for int and long, ``float`` for double, ``str`` or a
subclass, ``True``/``False``, ``None`` where nullable) and raises :class:`UnwritableValue` for anything else
(or hands the values to ``otherwise``), so that a caller can let fastavro decide: its conversions (a
``datetime`` for a timestamp, an ``int`` for a double) and errors then apply. Whatever the writer does write
is byte for byte what fastavro writes. Schemas of any other shape get no writer (``None``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

RecordWriter = Callable[[Sequence[Any]], bytes]
KeyedWriter = Callable[[Sequence[Any]], tuple[bytes, bytes]]

_PRIMITIVES = ("null", "boolean", "int", "long", "double", "string")
_TABLE_BITS = 14
_TABLE_SIZE = 1 << _TABLE_BITS
_LOW = _TABLE_SIZE - 1


def _varint_bytes(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_VARINT = tuple(_varint_bytes(n) for n in range(_TABLE_SIZE))
"""Varint of n < 2**14 (n already zig-zag encoded)."""
_PRESENT = tuple(b"\x02" + v for v in _VARINT)
"""The same after the union branch index 1 (the non-null branch of ``["null", T]``)."""
_CONTINUED = tuple(bytes(((n & 0x7F) | 0x80, (n >> 7) | 0x80)) for n in range(_TABLE_SIZE))
"""Fourteen low bits of a longer varint: two bytes, both with the continuation bit."""
_PRESENT_CONTINUED = tuple(b"\x02" + v for v in _CONTINUED)


class UnwritableValue(TypeError):
    """A value the generated writer does not take as is (wrong type, out of range): let fastavro decide."""


def varint(n: int) -> bytes:
    """The varint of a zig-zag encoded long (0 <= n < 2**64); raises UnwritableValue beyond."""
    if n < _TABLE_SIZE:
        return _VARINT[n]
    if n < 1 << 28:
        return _CONTINUED[n & _LOW] + _VARINT[n >> 14]
    if n < 1 << 42:
        return _CONTINUED[n & _LOW] + _CONTINUED[(n >> 14) & _LOW] + _VARINT[n >> 28]
    if n >> 64:
        raise UnwritableValue("out of the range of an Avro long")
    return _varint_bytes(n)


def decimal_bytes(value: Decimal, scale: int, precision: int) -> bytes:
    """The two's-complement big-endian unscaled integer of a ``Decimal``, in as many bytes as fastavro writes."""
    sign, digits, exponent = value.as_tuple()
    if len(digits) > precision or not isinstance(exponent, int) or exponent + scale < 0:
        raise UnwritableValue("a decimal of another scale or precision")
    unscaled = int("".join(map(str, digits)) or "0") * 10 ** (exponent + scale)
    size = (unscaled.bit_length() + 8) // 8
    written: bytes = (-unscaled if sign else unscaled).to_bytes(size, "big", signed=True)
    return written


def decimal_writer(scale: int, precision: int) -> Callable[[Decimal], bytes]:
    """``decimal_bytes`` for one scale and precision, reading the common case (a value already at the scale, as
    the converters leave it) from its text, about three times faster."""
    limit = 10**precision

    def write(value: Decimal) -> bytes:
        text = str(value)
        point = text.find(".")
        if point < 0 or len(text) - point - 1 != scale or "E" in text:
            return decimal_bytes(value, scale, precision)
        unscaled = int(text[:point] + text[point + 1 :])
        if not -limit < unscaled < limit:
            raise UnwritableValue("a decimal of another precision")
        return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)

    return write


def _decimal(avro: Any) -> dict[str, Any] | None:
    """The decimal schema of a field type (bare or nullable) when it is a ``bytes`` decimal."""
    if isinstance(avro, list) and len(avro) == 2 and avro[0] == "null":
        avro = avro[1]
    if isinstance(avro, dict) and avro.get("type") == "bytes" and avro.get("logicalType") == "decimal":
        return avro
    return None


def _branch(avro: Any) -> tuple[str, bool] | None:
    """(primitive, nullable) for a field type the writer handles, else None."""
    nullable = False
    if isinstance(avro, list):
        if len(avro) != 2 or avro[0] != "null" or avro[1] == "null":
            return None
        nullable, avro = True, avro[1]
    if _decimal(avro) is not None:
        return "decimal", nullable
    if isinstance(avro, dict):
        avro = avro.get("type")
    if not isinstance(avro, str) or avro not in _PRIMITIVES:
        return None
    return avro, nullable


_LONG = (  # n, the zig-zag encoded value, in one, two or three table lookups before the general loop
    "n = ({v} << 1) ^ ({v} >> 63)",
    "if n < 16384: p{i} = {small}[n]",
    "elif n < 268435456: p{i} = {cont}[n & 16383] + VARINT[n >> 14]",
    "elif n < 4398046511104: p{i} = {cont}[n & 16383] + CONTINUED[n >> 14 & 16383] + VARINT[n >> 28]",
)
_BODIES: dict[str, tuple[str, ...]] = {
    # each sets the bytes of field {i} (value {v}) in p{i}, and the UTF-8 of a string in s{i};
    # {tag} is the union branch ("" or "b'\x02' + "), {small} and {cont} its tables
    "long": (
        "if {v}.__class__ is not int: raise wrong({i})",
        *_LONG,
        "else: p{i} = {tag}varint(n)",
    ),
    "int": (
        "if {v}.__class__ is not int: raise wrong({i})",
        *_LONG[:3],
        "elif n < 4294967296: p{i} = {cont}[n & 16383] + CONTINUED[n >> 14 & 16383] + VARINT[n >> 28]",
        "else: raise wrong({i})",
    ),
    "string": (
        "s{i} = {v}.encode()",
        "n = len(s{i}) << 1",
        "p{i} = {small}[n] if n < 16384 else {tag}varint(n)",
    ),
    "double": (
        "if {v}.__class__ is not float: raise wrong({i})",
        "p{i} = {tag}double({v})",
    ),
    "boolean": (
        "if {v} is True: p{i} = {tag}b'\\x01'",
        "elif {v} is False: p{i} = {tag}b'\\x00'",
        "else: raise wrong({i})",
    ),
    "null": ("if {v} is not None: raise wrong({i})", "p{i} = b''"),
    "decimal": (
        "if {v}.__class__ is not Decimal: raise wrong({i})",
        "s{i} = DECIMAL{i}({v})",
        "n = len(s{i}) << 1",
        "p{i} = {small}[n]",
    ),
}


def _field_source(index: int, primitive: str, nullable: bool) -> tuple[list[str], list[str]]:
    """The lines writing one field, and the names of the pieces they leave, in order."""
    v = f"v{index}"
    tag, small, cont = ("b'\\x02' + ", "PRESENT", "PRESENT_CONTINUED") if nullable else ("", "VARINT", "CONTINUED")
    body = [line.format(v=v, i=index, tag=tag, small=small, cont=cont) for line in _BODIES[primitive]]
    sized = primitive in ("string", "decimal")
    pieces = [f"p{index}", f"s{index}"] if sized else [f"p{index}"]
    if not nullable or primitive == "null":
        return body, pieces
    absent = f"p{index} = b'\\x00'" + (f"; s{index} = b''" if sized else "")
    return [f"if {v} is None: {absent}", "else:", *("    " + line for line in body)], pieces


def _wrong(index: int) -> UnwritableValue:
    return UnwritableValue(f"field {index}: not a value the generated writer takes")


def record_writer(
    schema: Mapping[str, Any], *, prefix: bytes = b"", suffix: bytes = b"", otherwise: RecordWriter | None = None
) -> RecordWriter | None:
    """A function from the record's field values, in schema order, to ``prefix`` + its Avro body + ``suffix``;
    None for other shapes. With ``otherwise``, values it does not take (and a wrong count) go there instead."""
    return _generate(schema, prefix, suffix, otherwise, None)


def keyed_record_writer(
    schema: Mapping[str, Any],
    key: Sequence[int],
    *,
    key_prefix: bytes = b"",
    prefix: bytes = b"",
    suffix: bytes = b"",
    otherwise: KeyedWriter | None = None,
) -> KeyedWriter | None:
    """``record_writer`` that also writes, from the same values, the record of the fields at positions ``key``
    (the key record, whose fields are among the value's with the same types): ``(key bytes, value bytes)``,
    each field written once."""
    return _generate(schema, prefix, suffix, otherwise, (tuple(key), key_prefix))


def _generate(
    schema: Mapping[str, Any],
    prefix: bytes,
    suffix: bytes,
    otherwise: Callable[[Sequence[Any]], Any] | None,
    key: tuple[tuple[int, ...], bytes] | None,
) -> Callable[[Sequence[Any]], Any] | None:
    branches = [_branch(field["type"]) for field in schema["fields"]]
    if not branches or any(b is None for b in branches):
        return None
    body = [f"{', '.join(f'v{i}' for i in range(len(branches)))}, = values"]
    pieces: list[list[str]] = []
    for index, branch in enumerate(branches):
        assert branch is not None
        lines, names = _field_source(index, *branch)
        body += lines
        pieces.append(names)
    value = (["PREFIX"] if prefix else []) + [name for names in pieces for name in names]
    value += ["SUFFIX"] if suffix else []
    result = f"b''.join(({', '.join(value)},))"
    if key is not None:
        key_pieces = ["KEY_PREFIX"] + [name for index in key[0] for name in pieces[index]]
        result = f"b''.join(({', '.join(key_pieces)},)), {result}"
    body.append(f"return {result}")
    lines = ["def write(values):", "    try:", *("        " + line for line in body)]
    if otherwise is None:  # a value without .encode() in a string field: the same error as any other
        lines += ["    except AttributeError as exc:", "        raise UnwritableValue(str(exc)) from None"]
    else:
        lines += ["    except (TypeError, ValueError, AttributeError):", "        return otherwise(values)"]
    namespace: dict[str, Any] = {
        "PREFIX": prefix,
        "SUFFIX": suffix,
        "KEY_PREFIX": key[1] if key is not None else b"",
        "VARINT": _VARINT,
        "PRESENT": _PRESENT,
        "CONTINUED": _CONTINUED,
        "PRESENT_CONTINUED": _PRESENT_CONTINUED,
        "varint": varint,
        "double": struct.Struct("<d").pack,
        "wrong": _wrong,
        "otherwise": otherwise,
        "UnwritableValue": UnwritableValue,
        "Decimal": Decimal,
    }
    for index, field in enumerate(schema["fields"]):
        decimal = _decimal(field["type"])
        if decimal is not None:
            scale, precision = int(decimal.get("scale", 0)), int(decimal["precision"])
            namespace[f"DECIMAL{index}"] = decimal_writer(scale, precision)
    exec(compile("\n".join(lines), f"<avro writer {schema.get('name', 'record')}>", "exec"), namespace)
    write: Callable[[Sequence[Any]], Any] = namespace["write"]
    return write
