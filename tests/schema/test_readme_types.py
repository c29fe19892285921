"""The README's type table says what ``marketo_stream/schema/types.py`` does: one row per Avro type."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from marketo_stream.schema.types import avro_types

README = Path(__file__).resolve().parents[2] / "README.md"


def describe(avro: Any) -> str:
    """An Avro type as the README writes it: the type, then the logical type and its parameters."""
    if isinstance(avro, str):
        return f"`{avro}`"
    logical = avro["logicalType"]
    if logical == "decimal":
        logical = f"decimal({avro['precision']},{avro['scale']})"
    return f"`{avro['type']}` {logical}"


def readme_rows() -> dict[str, frozenset[str]]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- types:begin -->", 1)[1].split("<!-- types:end -->", 1)[0]
    rows: dict[str, frozenset[str]] = {}
    for line in table.strip().splitlines()[2:]:
        marketo, avro, _postgres = (cell.strip() for cell in line.strip("|").split("|"))
        rows[avro] = frozenset(re.findall(r"`([^`]+)`", marketo))
    return rows


def test_the_readme_type_table_matches_the_schema_code() -> None:
    expected: dict[str, set[str]] = {}
    for marketo, avro in avro_types().items():
        expected.setdefault(describe(avro), set()).add(marketo)
    assert readme_rows() == {avro: frozenset(names) for avro, names in expected.items()}
