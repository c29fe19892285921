"""Marketo names → Avro field names: one stable mapping, so a column keeps its name from run to run.

The mapping (``avro_name``), applied in this order:

1. Unicode is folded to ASCII where a letter has an ASCII base (``Prénom`` → ``Prenom``).
2. camelCase and acronym boundaries become ``_``: ``firstName`` → ``first_name``,
   ``marketoGUID`` → ``marketo_guid``, ``SFDCType`` → ``sfdc_type``, ``score2Value`` → ``score2_value``;
   a plural acronym stays whole (``Merge IDs`` → ``merge_ids``).
3. Every character outside ``[A-Za-z0-9]`` becomes ``_``; runs of ``_`` collapse to one and leading or
   trailing ``_`` are dropped: ``Client IP Address`` → ``client_ip_address``, ``Webpage ID`` → ``webpage_id``.
4. Lower case. A name that is left empty becomes ``field``; one that starts with a digit gets a ``_`` prefix
   (``1st Touch`` → ``_1st_touch``), because Avro names must start with a letter or ``_``.

Distinct Marketo names can meet on one Avro name (``firstName`` and ``First Name``). ``assign_names`` settles
that deterministically: names already taken (reserved columns, or fields of the previously published schema)
keep their Avro name; the others are sorted by their Marketo name and the first free one of ``name``,
``name_2``, ``name_3``, ... is given in that order. Because earlier assignments are honoured, a field added
later never steals the name of a published field.

Length cap: warehouses limit identifiers (PostgreSQL cuts them at 63 bytes, and a Connect sink's table name is
``<topic prefix>_<table>``), so a name longer than its cap is cut and ends in ``_`` plus the first 8 hex digits
of the SHA-1 of the whole uncut name: ``cap(name, limit) = name[:limit - 9] + "_" + sha1(name)[:8]`` (a ``_``
left at the cut is dropped). Shorter names never change; equal long names always give the same capped name and
different ones differ by their hash. The caps (names are ASCII here, so characters are bytes):

- field names (``avro_name``, ``assign_names``): ``MAX_FIELD_NAME`` = 63;
- table names (``table_name``, e.g. ``activity_<type>``, ``custom_object_<object>``): ``MAX_TABLE_NAME`` = 48,
  which leaves room for a topic prefix of up to 14 characters plus ``_`` in a warehouse table name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

_ACRONYM_END = re.compile(r"([A-Z]+)([A-Z](?!s(?![a-z]))[a-z])")  # "SFDCType" -> "SFDC_Type", not "IDs" -> "I_Ds"
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")  # "firstName" -> "first_Name", "score2Value" -> "score2_Value"
_INVALID = re.compile(r"[^A-Za-z0-9]+")

MAX_FIELD_NAME = 63
MAX_TABLE_NAME = 48
_HASH_DIGITS = 8


def cap(name: str, limit: int) -> str:
    """``name`` if it fits ``limit``; else cut, with a short stable hash of the whole name so cut names stay apart."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:_HASH_DIGITS]
    return f"{name[: limit - _HASH_DIGITS - 1].rstrip('_')}_{digest}"


def avro_name(marketo_name: str) -> str:
    """The Avro field name for one Marketo name, before collisions are resolved."""
    return cap(_snake(marketo_name), MAX_FIELD_NAME)


def table_name(kind: str, marketo_name: str) -> str:
    """The table (and topic suffix) ``<kind>_<name>`` for a table named after Marketo metadata."""
    return cap(f"{kind}_{_snake(marketo_name)}", MAX_TABLE_NAME)


def _snake(marketo_name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", marketo_name).encode("ascii", "ignore").decode("ascii")
    split = _LOWER_UPPER.sub(r"\1_\2", _ACRONYM_END.sub(r"\1_\2", ascii_name))
    name = _INVALID.sub("_", split).strip("_").lower()
    if not name:
        return "field"
    return f"_{name}" if name[0].isdigit() else name


def assign_names(
    marketo_names: Iterable[str], taken: Mapping[str, str] | None = None, reserved: Iterable[str] = ()
) -> dict[str, str]:
    """Avro names for ``marketo_names``, unique among themselves and against ``reserved``.

    ``taken`` maps Marketo names to the Avro names they already have (from a published schema); those are
    kept as they are. Returns a mapping for every name in ``marketo_names`` (and nothing else).
    """
    wanted = list(dict.fromkeys(marketo_names))
    previous = dict(taken or {})
    used = set(reserved) | set(previous.values())  # a published name never moves to another Marketo name
    result = {name: previous[name] for name in wanted if name in previous}
    for name in sorted(n for n in wanted if n not in previous):
        base = _snake(name)
        candidate, suffix = cap(base, MAX_FIELD_NAME), 1
        while candidate in used:
            suffix += 1
            candidate = cap(f"{base}_{suffix}", MAX_FIELD_NAME)
        used.add(candidate)
        result[name] = candidate
    return {name: result[name] for name in wanted}
