"""Tables whose columns do not come from Marketo metadata: their schemas are files in ``schemas/<table>.avsc``.

Each file is a value schema in the same dialect as the generated ones (``marketo_name``/``marketo_type`` per
field, ``marketo_key`` on the record), so ``RowConverter`` and ``key_schema`` treat both alike. Keys:

| table                     | key                                   |
|---------------------------|---------------------------------------|
| activity_type, campaign, program, list, company, form | ``id`` |
| program_tag               | ``program_id``, ``tag_type`` (one value per tag type and program) |
| program_cost              | ``program_id``, ``start_date``, ``note`` (``""`` when the cost has no note) |
| program_membership        | ``lead_id``, ``program_id``           |
| list_membership           | ``list_id``, ``lead_id``              |
| opportunity, opportunity_membership | ``marketo_guid`` (Marketo's idField for both) |
| email_template_history    | ``id``, ``updated_at`` (Marketo's ``version`` is the editor generation, not a revision) |
| lead_describe             | ``name`` (the REST name; describe2 has no id) |
| api_usage                 | ``date``                              |

All of them are entity tables, published to compacted topics. The directory defaults to ``schemas/`` at the
project root and can be moved with ``MARKETO_STREAM_SCHEMAS_DIR``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from marketo_stream.schema.tables import AvroTable, table_from_value_schema

FIXED_TABLES: tuple[str, ...] = (
    "activity_type",
    "campaign",
    "program",
    "program_tag",
    "program_cost",
    "program_membership",
    "list",
    "list_membership",
    "opportunity",
    "opportunity_membership",
    "company",
    "email_template_history",
    "form",
    "lead_describe",
    "api_usage",
)


def schemas_dir() -> Path:
    configured = os.environ.get("MARKETO_STREAM_SCHEMAS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "schemas"


def fixed_table(name: str, directory: Path | None = None) -> AvroTable:
    """The table ``name`` from its ``.avsc`` file; unknown names raise ``KeyError`` listing the known ones."""
    if name not in FIXED_TABLES:
        raise KeyError(f"no fixed table {name!r}; known: {', '.join(FIXED_TABLES)}")
    path = (directory or schemas_dir()) / f"{name}.avsc"
    return table_from_value_schema(name, json.loads(path.read_text(encoding="utf-8")), compacted=True)
