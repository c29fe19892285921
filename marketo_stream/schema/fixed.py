"""Tables whose columns do not come from Marketo metadata: their schemas are files, ``schemas/<table>.avsc``.

Which tables those are is the catalog's to say (``marketo_stream.tables``, ``Schema.FIXED``); this module only
loads the file a table name points to, so that a new fixed table is one catalog entry plus one file
(``tests/unit/test_tables.py`` holds the two to each other). Each file is a value schema in the same dialect as the
generated ones (``marketo_name``/``marketo_type`` per field, ``marketo_key`` on the record naming the key fields),
so ``RowConverter`` and ``key_schema`` treat both alike. All of them are entity tables, published to compacted
topics. The directory defaults to ``schemas/`` at the project root and can be moved with
``MARKETO_STREAM_SCHEMAS_DIR``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from marketo_stream.schema.tables import AvroTable, table_from_value_schema


def schemas_dir() -> Path:
    configured = os.environ.get("MARKETO_STREAM_SCHEMAS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "schemas"


def schema_file_names(directory: Path | None = None) -> tuple[str, ...]:
    """The tables that have a schema file, sorted."""
    return tuple(sorted(path.stem for path in (directory or schemas_dir()).glob("*.avsc")))


def fixed_table(name: str, directory: Path | None = None) -> AvroTable:
    """The table ``name`` from its ``.avsc`` file; a name without one raises ``KeyError`` listing those there are."""
    path = (directory or schemas_dir()) / f"{name}.avsc"
    if not path.is_file():
        raise KeyError(
            f"no schema file for table {name!r} ({path}); there are: {', '.join(schema_file_names(directory))}"
        )
    return table_from_value_schema(name, json.loads(path.read_text(encoding="utf-8")), compacted=True)
