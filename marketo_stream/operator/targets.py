"""What a table name on the command line stands for: its kind, its activity type, and the state keys it lives under.

Activity tables are named after Marketo's activity types, so resolving ``activity_*`` needs the type list
(``activities/types.json``); every other name is known without asking Marketo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from marketo_stream.errors import ConfigError
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.sync_state import ACTIVITIES_KEY, DELETED_LEADS_KEY, LEADS_KEY, RECENT_KEY, entity_key
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, Source, TableSpec, activity_table, custom_object_table

ACTIVITY_PREFIX = "activity_"
CUSTOM_OBJECT_PREFIX = "custom_object_"


class TableKind(Enum):
    """What an operator command does differently per table; read off the catalog's ``TableSpec.source``."""

    LEAD = "lead"
    ACTIVITY = "activity"
    ENTITY = "entity"
    CUSTOM_OBJECT = "custom_object"


_KIND_BY_SOURCE: Mapping[Source, TableKind] = {
    Source.LEADS: TableKind.LEAD,
    Source.BULK_ACTIVITIES: TableKind.ACTIVITY,
    Source.CUSTOM_OBJECT: TableKind.CUSTOM_OBJECT,
}
"""Every other source is an entity listing (its state is one ``entity_key``)."""


def kind_of(spec: TableSpec) -> TableKind:
    return _KIND_BY_SOURCE.get(spec.source, TableKind.ENTITY)


class UnknownTableError(ConfigError):
    """The name matches no table this tool publishes (a command-line mistake); the message lists what it knows."""


@dataclass(frozen=True)
class TargetTable:
    name: str
    spec: TableSpec
    """The catalog's declaration: the fixed catalog's, or the one ``tables`` makes for an activity type or custom
    object. For a custom object it is made from the table name, whose ``object_name`` is then a guess (table names
    are cut and lower-cased); no operator command reads it."""
    activity_type: Mapping[str, Any] | None = None
    """Marketo's description of the activity type (``activities/types.json``), for activity tables."""

    @property
    def kind(self) -> TableKind:
        return kind_of(self.spec)

    @property
    def type_id(self) -> int:
        if self.activity_type is None:
            raise ValueError(f"{self.name} is not an activity table")
        return int(self.activity_type["id"])

    def state_keys(self) -> tuple[str, ...]:
        """The state keys holding this table's own progress (resets may reach further: see ``reset``)."""
        if self.kind is TableKind.ACTIVITY:
            return (ACTIVITIES_KEY, RECENT_KEY)
        if self.kind is TableKind.LEAD:
            return (LEADS_KEY, DELETED_LEADS_KEY)
        if self.kind is TableKind.CUSTOM_OBJECT:
            return (entity_key(self.name), windows_key(self.name))
        return (entity_key(self.name),)


def windows_key(table: str) -> str:
    """Where a custom object table keeps its finished ``updatedAt`` windows."""
    return f"windows.{table}"


def resolve_table(name: str, activity_types: Iterable[Mapping[str, Any]] | None = None) -> TargetTable:
    """The table called ``name``; ``activity_types`` is needed only for ``activity_*`` names."""
    for spec in (LEAD_TABLE, *FIXED_TABLES):
        if spec.name == name:
            return TargetTable(name, spec)
    if name.startswith(CUSTOM_OBJECT_PREFIX) and len(name) > len(CUSTOM_OBJECT_PREFIX):
        return TargetTable(name, replace(custom_object_table(name.removeprefix(CUSTOM_OBJECT_PREFIX)), name=name))
    if name.startswith(ACTIVITY_PREFIX) and activity_types is not None:
        names = []
        for item in activity_types:
            spec = activity_table(int(item["id"]), str(item["name"]))
            if spec.name == name:
                return TargetTable(name, spec, item)
            names.append(spec.name)
        raise UnknownTableError(f"no activity type publishes {name!r}; activity tables are: {', '.join(sorted(names))}")
    known = ", ".join(sorted(s.name for s in (*FIXED_TABLES, LEAD_TABLE)))
    raise UnknownTableError(f"no table named {name!r}; tables are: {known}, activity_<type> and custom_object_<object>")


def resolve_table_with(name: str, client: MarketoClient) -> TargetTable:
    """``resolve_table``, asking Marketo for the activity types only when the name needs them."""
    types = client.get("/rest/v1/activities/types.json").result if name.startswith(ACTIVITY_PREFIX) else None
    return resolve_table(name, types)
