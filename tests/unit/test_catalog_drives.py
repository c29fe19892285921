"""The table catalog is the one place that names tables: the sync reads each table the way its declaration says.

A table name as a string constant anywhere else is a second declaration (or a dispatch on names) that the
catalog no longer governs. The modules allowed to hold one are listed with the reason; the list should only
shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

from marketo_stream.sync.entity_readers import READERS
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, Reader, custom_object_table

PACKAGE = Path(__file__).parents[2] / "marketo_stream"
CATALOG_NAMES = {spec.name for spec in (*FIXED_TABLES, LEAD_TABLE)}

ALLOWED: dict[str, str] = {
    "tables.py": "the catalog itself",
    "schema/fixed.py": "the list of fixed schema files; to read the catalog instead (owned by the schema work)",
    "operator/doctor/marketo.py": "labels of the doctor's probes, one per endpoint; not sync control flow",
    "operator/targets.py": "'lead' as the lead table's kind for operator commands (owned by the targets work)",
    "schema/tables.py": "the default name of the generated lead schema",
    "schema/types.py": "'email' is a Marketo field data type there (published as string), not the email table",
    "settings.py": "the lead table cannot be blocked: a validation message about the table the user named",
    "state_migrations.py": "'lead' is the lead phase's state key, fixed by the stored format since version 1",
}
"""Modules (relative to marketo_stream/) allowed to hold a catalog table name, and why."""

SKIPPED = ("sandbox/",)
"""The simulator imports nothing of the product and declares its own world."""


def _names_in(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in CATALOG_NAMES
        and id(node) not in docstrings
    ]


def test_no_table_name_appears_outside_the_catalog_and_the_allowed_modules() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ALLOWED or relative.startswith(SKIPPED):
            continue
        found += [f"{relative}:{line}: {name!r}" for line, name in _names_in(path)]
    assert found == []


def test_every_allowed_module_still_exists() -> None:
    assert [name for name in ALLOWED if not (PACKAGE / name).exists()] == []


def test_every_reader_has_an_implementation_and_every_entity_table_a_reader() -> None:
    assert set(READERS) == set(Reader)
    assert [spec.name for spec in FIXED_TABLES if spec.reader is None] == []
    assert custom_object_table("car_c").reader is Reader.UPDATED_WINDOWS


def test_a_child_names_a_parent_the_catalog_declares_and_reads_earlier() -> None:
    order = list(Reader)
    by_name = {spec.name: spec for spec in FIXED_TABLES}
    for spec in FIXED_TABLES:
        if spec.parent is None:
            continue
        parent = by_name[spec.parent]
        assert parent.reader is not None and spec.reader is not None
        assert order.index(parent.reader) < order.index(spec.reader), spec.name
