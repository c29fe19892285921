"""The local BACKWARD check names the fields the registry would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from marketo_stream.sink.compat import backward_problems


def _record(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "Value", "fields": list(fields)}


ID = {"name": "id", "type": "long"}
EMAIL = {"name": "email", "type": ["null", "string"], "default": None}


@pytest.mark.parametrize(
    "new",
    [
        _record(ID, EMAIL, {"name": "score", "type": ["null", "long"], "default": None}),
        _record(ID),  # a removed field is fine for readers of old data
        _record({"name": "id", "type": "double"}, EMAIL),  # long promotes to double
        _record(ID, {"name": "email", "type": ["null", "string", "long"], "default": None}),
        _record(ID, {"name": "mail", "aliases": ["email"], "type": ["null", "string"], "default": None}),
    ],
    ids=["added-nullable", "removed", "promoted", "widened-union", "renamed-with-alias"],
)
def test_backward_compatible_changes_pass(new: dict[str, Any]) -> None:
    assert backward_problems(new, _record(ID, EMAIL)) == []


@pytest.mark.parametrize(
    ("new", "field"),
    [
        (_record(ID, EMAIL, {"name": "score", "type": "long"}), "score"),
        (_record({"name": "id", "type": "string"}, EMAIL), "id"),
        (_record(ID, {"name": "email", "type": "string"}), "email"),
        (_record({"name": "id", "type": "int"}, EMAIL), "id"),
    ],
    ids=["added-without-default", "type-changed", "null-dropped", "narrowed"],
)
def test_incompatible_changes_name_the_field(new: dict[str, Any], field: str) -> None:
    assert [path for path, _ in backward_problems(new, _record(ID, EMAIL))] == [field]


def test_nested_problems_carry_the_path() -> None:
    old = _record({"name": "folder", "type": _record({"name": "id", "type": "long"}) | {"name": "Folder"}})
    new = _record({"name": "folder", "type": _record({"name": "id", "type": "string"}) | {"name": "Folder"}})
    assert [path for path, _ in backward_problems(new, old)] == ["folder.id"]
