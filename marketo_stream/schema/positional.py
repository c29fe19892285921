"""Bulk-file rows → Avro-ready values in schema field order, by a function generated per (schema, file header).

A bulk export row is a list in header order: CSV text (``""`` and ``null`` mean no value) with the JSON
columns (``attributes``) already parsed. ``RowConverter`` would need it as a dict and calls one function per
column; at a million rows per sync that is most of the conversion's cost. :func:`positional_converter`
generates, for one schema and one header, a function that unpacks the row, converts every column inline (the
common forms only: plain integers, ISO timestamps, ``true``/``false``, strings as they are) and returns the
values of the published fields in schema order, omitted fields left out and finishing functions (the column
policies' hashing) applied to non-null values.

Its results are ``RowConverter``'s, by construction: a row it raises on anywhere is converted again by
``RowConverter`` over the row as a dict, which either succeeds the slow way (``"42.7"`` in a long column,
``TRUE``, ``2015-05-21T22:45:13Z+0000``) or raises the ``ValueConversionError`` naming the column. Omitted
fields are still converted, so a row is rejected for the same values as before they were omitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from marketo_stream.schema import convert as rules
from marketo_stream.schema.convert import RowConverter

ValuesConverter = Callable[[Sequence[Any]], list[Any]]
Finisher = Callable[[Any], Any]

_BOOLEANS: dict[str, bool | None] = {
    "": None,
    "null": None,
    **dict.fromkeys(rules.TRUE_WORDS, True),
    **dict.fromkeys(rules.FALSE_WORDS, False),
}
_NO_VALUE = "{x} == '' or {x} == 'null'"
_FROM_TEXT = {  # the inline conversion of CSV text {x} to {o}, by Avro type
    "string": f"{{o}} = None if {_NO_VALUE} else {{x}}",
    "long": f"{{o}} = None if {_NO_VALUE} else int({{x}})",
    "double": f"{{o}} = None if {_NO_VALUE} else float({{x}})",
    "boolean": "{o} = BOOLEANS[{x}]",
    "timestamp-millis": f"{{o}} = None if {_NO_VALUE} else (fromisoformat({{x}}) - EPOCH) // MILLI",
    "date": f"{{o}} = None if {_NO_VALUE} else fromisodate({{x}}[:10]).toordinal() - EPOCH_ORDINAL",
}
_FROM_TEXT["int"], _FROM_TEXT["float"] = _FROM_TEXT["long"], _FROM_TEXT["double"]
_EXACT = {"long": "int", "int": "int", "double": "float", "float": "float", "boolean": "bool"}
"""The JSON type an attribute of each Avro type already has when it needs no conversion."""
_GENERAL = {
    "string": "to_string",
    "long": "to_long",
    "int": "to_long",
    "double": "to_double",
    "float": "to_double",
    "boolean": "to_boolean",
    "timestamp-millis": "to_timestamp_millis",
    "date": "to_date_days",
}


def _kind(avro: Any) -> str:
    if isinstance(avro, list):
        (avro,) = [b for b in avro if b != "null"]
    if isinstance(avro, dict):
        return str(avro.get("logicalType") or avro["type"])
    return str(avro)


def _from_attribute(kind: str, o: str) -> list[str]:
    """An attribute's JSON value ``x``: None stays None, the exact type passes, the rest takes the general rule."""
    lines = [f"if x is None: {o} = None"]
    if kind == "string":
        lines.append(f"elif x.__class__ is str: {o} = None if x == 'null' else x")
    elif kind in _EXACT:
        lines.append(f"elif x.__class__ is {_EXACT[kind]}: {o} = x")
    lines.append(f"else: {o} = {_GENERAL[kind]}(x)")
    return lines


def _decimal_name(field: Mapping[str, Any], namespace: dict[str, Any], index: int) -> str:
    """The name, in the generated function's namespace, of the converter of a decimal field."""
    name = f"to_decimal{index}"
    namespace[name] = rules.converter_for(field["type"])
    return name


def _field_lines(field: Mapping[str, Any], o: str, column: Mapping[str, int], parsed: frozenset[str]) -> list[str]:
    source = field.get("marketo_name")
    if _kind(field["type"]) == "decimal":  # no inline form: the converter rounds to the field's scale
        rule = f"to_decimal{o[1:]}"
        if field.get("marketo_attribute"):
            x = f"get({source!r})"
        elif isinstance(source, str) and source in column:
            x = f"c{column[source]}"
        else:
            return [f"{o} = None"]
        return [f"x = {x}", f"{o} = None if x is None or x == '' or x == 'null' else {rule}(x)"]
    if field.get("marketo_attribute"):
        return [f"x = get({source!r})", *_from_attribute(_kind(field["type"]), o)]
    if source is None or source not in column:
        return [f"{o} = None"]
    if source in parsed:  # a JSON column published as a plain column: the general rule
        rule = _GENERAL[_kind(field["type"])]
        return [f"x = c{column[source]}", f"{o} = None if x is None or x == '' or x == 'null' else {rule}(x)"]
    return [_FROM_TEXT[_kind(field["type"])].format(o=o, x=f"c{column[source]}")]


def positional_converter(
    value_schema: Mapping[str, Any],
    header: Sequence[str],
    *,
    json_columns: Iterable[str] = ("attributes",),
    omit: Iterable[str] = (),
    finish: Mapping[str, Finisher] | None = None,
) -> ValuesConverter:
    """Converts rows of a file with ``header`` to the values of ``value_schema``'s fields minus ``omit``, in
    schema order; ``finish[name]`` is applied to the field's non-null values (after conversion)."""
    reference = RowConverter(value_schema)  # refuses schemas it cannot convert, before anything is generated
    fields = value_schema["fields"]
    omitted, finishers = frozenset(omit), dict(finish or {})
    published = [f["name"] for f in fields if f["name"] not in omitted]
    key = frozenset(value_schema.get("marketo_key", ()))
    column = {name: index for index, name in enumerate(header)}

    def careful(row: Sequence[Any]) -> list[Any]:
        plain = {name: None if raw == "" or raw == "null" else raw for name, raw in zip(header, row, strict=True)}
        converted = reference(plain)
        values = [converted.get(name) for name in published]
        for index, name in enumerate(published):
            if name in finishers and values[index] is not None:
                values[index] = finishers[name](values[index])
        return values

    namespace: dict[str, Any] = {
        "BOOLEANS": _BOOLEANS,
        "EPOCH": rules.EPOCH,
        "MILLI": rules.MILLI,
        "EPOCH_ORDINAL": rules.EPOCH_ORDINAL,
        "EMPTY": {},
        "fromisoformat": datetime.fromisoformat,
        "fromisodate": date.fromisoformat,
        "attributes_of": rules.attributes_of,
        "careful": careful,
        **{name: getattr(rules, name) for name in set(_GENERAL.values())},
    }
    body = [", ".join(f"c{i}" for i in range(len(header))) + ", = row"] if header else []
    if any(f.get("marketo_attribute") for f in fields):
        body.append(f"a = c{column['attributes']}" if "attributes" in column else "a = None")
        body += ["if a is None: a = EMPTY", "elif a.__class__ is not dict: a = attributes_of(a)", "get = a.get"]
    for index, field in enumerate(fields):
        o = f"o{index}"
        if _kind(field["type"]) == "decimal":
            _decimal_name(field, namespace, index)
        body += _field_lines(field, o, column, frozenset(json_columns))
        if field["name"] in key:
            body.append(f"if {o} is None: raise ValueError('the key column is missing')")
        if field["name"] in finishers:
            namespace[f"finish{index}"] = finishers[field["name"]]
            body.append(f"if {o} is not None: {o} = finish{index}({o})")
    body.append(f"return [{', '.join(f'o{i}' for i, f in enumerate(fields) if f['name'] not in omitted)}]")
    lines = ["def convert(row):", "    try:", *("        " + line for line in body)]
    lines += [
        "    except (ValueError, TypeError, KeyError, OverflowError, AttributeError):",
        "        return careful(row)",
    ]
    exec(compile("\n".join(lines), f"<converter {value_schema.get('name', 'record')}>", "exec"), namespace)
    convert: ValuesConverter = namespace["convert"]
    return convert
