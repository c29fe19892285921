"""Marketo data types → Avro types.

| Marketo ``dataType`` (case-insensitive)                        | Avro type                               |
|----------------------------------------------------------------|-----------------------------------------|
| ``datetime``                                                   | ``long``, logicalType ``timestamp-millis`` |
| ``date``                                                       | ``int``, logicalType ``date``           |
| ``integer``, ``reference``, ``score``                          | ``long``                                |
| ``currency``                                                   | ``bytes``, logicalType ``decimal`` (18, 2) |
| ``float``, ``percent``                                         | ``double``                              |
| ``boolean``                                                    | ``boolean``                             |
| ``string``, ``text``, ``textarea``, ``email``, ``url``, ``phone``, ``link``, ``formula`` | ``string`` |
| anything else (logged as a warning)                            | ``string``                              |

``currency`` is an exact decimal (``CURRENCY``: 18 digits, 2 after the point, Marketo's money fields in the UI and
its CRM sync): values with more decimals are rounded half to even, values past 16 digits before the point are
refused. The fixed tables' money columns (``schemas/*.avsc``: opportunity amounts, company revenue, program
costs) are declared the same way. ``score`` fields hold whole numbers in Marketo, hence ``long``. Integers
become ``long`` because Marketo ids outgrow 32 bits on large instances. Every type is wrapped as ``["null", T]``
with default ``null`` for non-key columns (``nullable``), so a later schema with more columns stays backward
compatible.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

TIMESTAMP_MILLIS: dict[str, str] = {"type": "long", "logicalType": "timestamp-millis"}
DATE: dict[str, str] = {"type": "int", "logicalType": "date"}
CURRENCY_PRECISION, CURRENCY_SCALE = 18, 2
CURRENCY: dict[str, Any] = {
    "type": "bytes",
    "logicalType": "decimal",
    "precision": CURRENCY_PRECISION,
    "scale": CURRENCY_SCALE,
}

_AVRO_TYPES: dict[str, Any] = {
    "datetime": TIMESTAMP_MILLIS,
    "date": DATE,
    "integer": "long",
    "reference": "long",
    "score": "long",
    "float": "double",
    "currency": CURRENCY,
    "percent": "double",
    "boolean": "boolean",
    **{name: "string" for name in ("string", "text", "textarea", "email", "url", "phone", "link", "formula")},
}


def avro_type(marketo_type: str | None, where: str = "") -> Any:
    """The Avro type for a Marketo ``dataType``; unknown ones become ``string`` with a warning naming ``where``."""
    found = _AVRO_TYPES.get((marketo_type or "").strip().lower())
    if found is None:
        log.warning("unknown Marketo data type %r%s: published as string", marketo_type, f" ({where})" if where else "")
        return "string"
    return dict(found) if isinstance(found, dict) else found


def avro_types() -> dict[str, Any]:
    """Every Marketo ``dataType`` this module knows, with its Avro type (the README's type table is checked
    against it)."""
    return {name: avro_type(name) for name in _AVRO_TYPES}


def nullable(avro: Any) -> list[Any]:
    """``["null", T]``: the shape every non-key column has."""
    return ["null", avro]
