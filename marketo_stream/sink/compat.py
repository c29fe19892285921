"""BACKWARD compatibility, checked here before the registry is asked, so the error can name the fields.

A new (reader) schema is backward compatible with the published (writer) one when Avro schema resolution
lets it read every record written with the old one: fields it adds have defaults, shared fields have types
the old ones promote to (int → long → float → double, string ↔ bytes), unions cover every old branch, enums
keep the old symbols. Removing a field is allowed. The registry's verdict still counts; this check only
makes the refusal precise and independent of the registry's configured compatibility level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PROMOTIONS = {
    "int": {"int", "long", "float", "double"},
    "long": {"long", "float", "double"},
    "float": {"float", "double"},
    "string": {"string", "bytes"},
    "bytes": {"bytes", "string"},
}


def backward_problems(reader: Any, writer: Any) -> list[tuple[str, str]]:
    """``(field path, reason)`` for every place where ``reader`` cannot read data written with ``writer``."""
    problems: list[tuple[str, str]] = []
    _check(reader, writer, "", problems, {})
    return problems


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, Mapping):
        return str(schema["type"]) if isinstance(schema["type"], str) else _kind(schema["type"])
    return str(schema)


def _named(schema: Any, names: dict[str, Any]) -> Any:
    """Resolves references to named types seen earlier in the same schema."""
    if isinstance(schema, str) and schema in names:
        return names[schema]
    if isinstance(schema, Mapping) and "name" in schema and schema.get("type") in ("record", "enum", "fixed"):
        names[str(schema["name"])] = schema
    return schema


def _readable(reader: Any, writer: Any, names: dict[str, Any]) -> bool:
    problems: list[tuple[str, str]] = []
    _check(reader, writer, "", problems, dict(names))
    return not problems


def _check(reader: Any, writer: Any, path: str, problems: list[tuple[str, str]], names: dict[str, Any]) -> None:
    reader, writer = _named(reader, names), _named(writer, names)
    r_kind, w_kind = _kind(reader), _kind(writer)
    where = path or "(record)"
    if w_kind == "union":
        for branch in writer:
            if not _union_reads(reader, branch, names):
                problems.append((where, f"old values of type {_kind(branch)} cannot be read as {_describe(reader)}"))
        return
    if r_kind == "union":
        if not any(_readable(branch, writer, names) for branch in reader):
            problems.append((where, f"no branch of {_describe(reader)} reads old values of type {w_kind}"))
        return
    if r_kind != w_kind and r_kind not in _PROMOTIONS.get(w_kind, set()):
        problems.append((where, f"type changed from {w_kind} to {r_kind}"))
        return
    if r_kind == "record":
        _check_record(reader, writer, path, problems, names)
    elif r_kind == "array":
        _check(reader["items"], writer["items"], f"{path}[]", problems, names)
    elif r_kind == "map":
        _check(reader["values"], writer["values"], f"{path}{{}}", problems, names)
    elif r_kind == "enum" and "default" not in reader:
        missing = sorted(set(writer["symbols"]) - set(reader["symbols"]))
        if missing:
            problems.append((where, f"enum symbols removed without a default: {', '.join(missing)}"))
    elif r_kind == "fixed" and reader.get("size") != writer.get("size"):
        problems.append((where, "fixed size changed"))


def _union_reads(reader: Any, branch: Any, names: dict[str, Any]) -> bool:
    if _kind(reader) == "union":
        return any(_readable(r, branch, names) for r in reader)
    return _readable(reader, branch, names)


def _check_record(
    reader: Mapping[str, Any],
    writer: Mapping[str, Any],
    path: str,
    problems: list[tuple[str, str]],
    names: dict[str, Any],
) -> None:
    old = {f["name"]: f for f in writer["fields"]}
    for field in reader["fields"]:
        name = f"{path}.{field['name']}" if path else field["name"]
        match = next((old[n] for n in (field["name"], *field.get("aliases", ())) if n in old), None)
        if match is None:
            if "default" not in field:
                problems.append((name, "new field without a default"))
            continue
        _check(field["type"], match["type"], name, problems, names)


def _describe(schema: Any) -> str:
    if isinstance(schema, list):
        return "[" + ", ".join(_kind(b) for b in schema) + "]"
    return _kind(schema)
