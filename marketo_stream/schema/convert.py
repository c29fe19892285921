"""Rows as Marketo gives them → dicts ready for Avro encoding under one value schema.

Rows come as CSV strings (Bulk Extract) or JSON-typed values (REST), keyed by Marketo names. The
converter is compiled once per schema (one small function per column) because it runs on every row.

- any column: ``None``, a missing key or the CSV literal ``null`` → ``None``; ``""`` too, except in strings;
- ``long``: int, ``"42"``, ``"42.7"`` (truncated, as connectors do for percent values in integer columns);
- ``double``: int, float, numeric string → float;
- ``decimal`` (bytes): int, float (through its shortest repr, so ``0.1`` stays ``0.1``), numeric string →
  ``Decimal`` at the schema's scale, rounded half to even; more digits than the precision raises;
- ``boolean``: bool, 0/1, ``true/false/t/f/1/0/yes/no/y/n`` in any case;
- ``string``: str as is (``""`` stays ``""``); lists and objects as compact JSON; numbers via ``str``;
- ``timestamp-millis``: ISO-8601 incl. ``2015-05-21T22:45:13Z+0000``, ``+0000``, ``-08:00`` and date-only
  (midnight); no offset means UTC; an int is taken as millis → int millis since the epoch;
- ``date``: ``YYYY-MM-DD`` (a datetime string is cut to its date), an int is taken as days → int days.

An empty string is null for every non-string column. Activity attributes are read from the row's
``attributes``: a JSON object string (CSV), a list of ``{name, value}`` (REST; ``apiName`` also matches) or a
mapping. A value that fits none of the rules raises ``ValueConversionError`` naming the column; a row without
its key raises it too. Output timestamps and dates are plain ints (fastavro writes them without conversion).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from marketo_stream.errors import MarketoStreamError

Converter = Callable[[Any], Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MILLI = timedelta(milliseconds=1)
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


class ValueConversionError(MarketoStreamError, ValueError):
    """A Marketo value does not fit its Avro column; names the column and the value."""

    def __init__(self, column: str, marketo_name: str, value: Any, reason: str) -> None:
        self.column, self.marketo_name, self.value, self.reason = column, marketo_name, value, reason
        super().__init__(f"column {column!r} (Marketo {marketo_name!r}): cannot convert {value!r}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole: a row worker process hands it to the sync process, which rejects the row with it."""
        return (type(self), (self.column, self.marketo_name, self.value, self.reason))


def to_long(value: Any) -> int | None:
    if value.__class__ is int:
        return value
    if isinstance(value, str):
        if value == "" or value == "null":
            return None
        try:
            return int(value)
        except ValueError:
            return int(float(value))
    if isinstance(value, bool | float):
        return int(value)
    raise TypeError(f"{type(value).__name__} is not a number")


def to_double(value: Any) -> float | None:
    if isinstance(value, str):
        return None if value == "" or value == "null" else float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number")


def decimal_converter(scale: int, precision: int) -> Converter:
    """A converter to ``Decimal`` with ``scale`` digits after the point and at most ``precision`` digits."""
    step = Decimal(1).scaleb(-scale)

    def to_decimal(value: Any) -> Decimal | None:
        if isinstance(value, str):
            if value == "" or value == "null":
                return None
            try:
                exact = Decimal(value.strip())
            except InvalidOperation as exc:
                raise ValueError("not a number") from exc
        elif isinstance(value, Decimal):
            exact = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        else:
            raise TypeError(f"{type(value).__name__} is not a number")
        try:
            rounded = exact.quantize(step, rounding=ROUND_HALF_EVEN)
        except InvalidOperation as exc:
            raise ValueError(f"not a finite number of at most {precision} digits") from exc
        if not rounded.is_finite() or len(rounded.as_tuple().digits) > precision:
            raise ValueError(f"more than {precision} digits")
        return rounded

    return to_decimal


def to_boolean(value: Any) -> bool | None:
    if value.__class__ is bool:
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        if lowered in ("", "null"):
            return None
    elif isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("not a boolean")


def to_string(value: Any) -> str | None:
    if value.__class__ is str:
        return None if value == "null" else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def parse_datetime(text: str) -> datetime:
    """Marketo's ISO-8601 forms as an aware UTC-based datetime (no offset means UTC)."""
    if text.endswith("Z+0000"):  # the asset API's doubled zone
        text = text[:-5]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_timestamp_millis(value: Any) -> int | None:
    if isinstance(value, str):
        if value == "" or value == "null":
            return None
        return (parse_datetime(value) - EPOCH) // MILLI
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - EPOCH) // MILLI
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{type(value).__name__} is not a datetime")


def to_date_days(value: Any) -> int | None:
    if isinstance(value, str):
        if value == "" or value == "null":
            return None
        return date.fromisoformat(value[:10]).toordinal() - EPOCH_ORDINAL
    if isinstance(value, datetime):
        return value.date().toordinal() - EPOCH_ORDINAL
    if isinstance(value, date):
        return value.toordinal() - EPOCH_ORDINAL
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{type(value).__name__} is not a date")


_BY_TYPE: dict[str, Converter] = {
    "long": to_long,
    "int": to_long,
    "double": to_double,
    "float": to_double,
    "boolean": to_boolean,
    "string": to_string,
    "timestamp-millis": to_timestamp_millis,
    "date": to_date_days,
}


def converter_for(avro: Any) -> Converter:
    """The converter for an Avro field type (a nullable union is converted as its non-null branch)."""
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            raise ValueError(f"only [null, T] unions are supported, not {avro!r}")
        avro = branches[0]
    name = avro.get("logicalType") or avro["type"] if isinstance(avro, dict) else avro
    if name == "decimal":
        return decimal_converter(int(avro.get("scale", 0)), int(avro["precision"]))
    try:
        return _BY_TYPE[name]
    except KeyError:
        raise ValueError(f"no Marketo conversion for Avro type {avro!r}") from None


def attributes_of(raw: Any) -> Mapping[str, Any]:
    """An activity's ``attributes`` in any of Marketo's three shapes, as a name → value mapping."""
    if raw is None or raw == "" or raw == "null":
        return {}
    if isinstance(raw, str):
        raw = json.loads(raw)
    if isinstance(raw, list):
        found: dict[str, Any] = {}
        for item in raw:
            found[item["name"]] = item.get("value")
            if "apiName" in item:
                found[item["apiName"]] = item.get("value")
        return found
    if isinstance(raw, Mapping):
        return raw
    raise TypeError(f"activity attributes of type {type(raw).__name__}")


Plan = tuple[tuple[str, str, Converter], ...]


class RowConverter:
    """Converts Marketo rows for one value schema; build once per schema, call per row."""

    def __init__(self, value_schema: Mapping[str, Any]) -> None:
        fields = value_schema["fields"]
        plain = [f for f in fields if "marketo_name" in f and not f.get("marketo_attribute")]
        attributes = [f for f in fields if f.get("marketo_attribute")]
        self._plain: Plan = tuple((f["name"], f["marketo_name"], converter_for(f["type"])) for f in plain)
        self._attributes: Plan = tuple((f["name"], f["marketo_name"], converter_for(f["type"])) for f in attributes)
        self._key = tuple(value_schema.get("marketo_key", ()))
        self._sources = {f["name"]: f.get("marketo_name", f["name"]) for f in fields}

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = row.get
        for name, source, convert in self._plain:
            value = get(source)
            try:
                out[name] = None if value is None else convert(value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueConversionError(name, source, value, str(exc)) from exc
        if self._attributes:
            self._convert_attributes(row, out)
        for name in self._key:
            if out.get(name) is None:
                raise ValueConversionError(name, self._sources[name], None, "the key column is missing")
        return out

    def _convert_attributes(self, row: Mapping[str, Any], out: dict[str, Any]) -> None:
        try:
            attributes = attributes_of(row.get("attributes"))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueConversionError("attributes", "attributes", row.get("attributes"), str(exc)) from exc
        for name, source, convert in self._attributes:
            value = attributes.get(source)
            try:
                out[name] = None if value is None else convert(value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueConversionError(name, source, value, str(exc)) from exc
