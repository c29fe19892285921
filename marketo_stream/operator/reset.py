"""Resetting one table's sync state, so that the next sync extracts it again.

A table's progress is not always under its own key: activity types share one ``activities`` document, and
some entity tables are re-read only when another table says so (program details and members only for
programs that changed; opportunity roles only for leads loaded or named). The plan reaches as far as needed
for the next sync to really re-extract the table, and says why.

The write uses the sync's own transactional id: it fences a running sync (which then stops and, restarted,
reads the reset state), and the state it edits is the one read after fencing, so no concurrent commit is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marketo_stream.operator.targets import TableKind, TargetTable, windows_key
from marketo_stream.settings import Settings
from marketo_stream.sink import KafkaSink
from marketo_stream.sync.runner import sink_config
from marketo_stream.sync_state import (
    ACTIVITIES_KEY,
    DELETED_LEADS_KEY,
    LEADS_KEY,
    RECENT_KEY,
    ActivityState,
    entity_key,
)
from marketo_stream.tables import FIXED_TABLES, Reader, TableSpec, fixed_table

Doc = dict[str, Any] | None

REREAD_ON_SIGNAL: dict[Reader, str] = {
    Reader.PARENT_DETAIL: "details are read only for {parent}s that changed",
    Reader.PARENT_MEMBERS: "members are read only for {parent}s that changed",
    Reader.BY_LEAD: (
        "rows are read per lead, and only a full lead load names every lead (so leads are re-extracted too)"
    ),
    Reader.BY_PARENT_TAG: "rows are found through {parent}, read per lead (so {parent} and leads are re-extracted too)",
}
"""Readers that re-read a table only when something else says so, and why resetting the table alone is not
enough."""


def _also_reset(spec: TableSpec) -> tuple[tuple[str, ...], str] | None:
    reason = REREAD_ON_SIGNAL.get(spec.reader) if spec.reader is not None else None
    if reason is None:
        return None
    if spec.reader is Reader.BY_LEAD:
        return (LEADS_KEY, DELETED_LEADS_KEY), reason
    parent = fixed_table(spec.parent or "")
    keys = (entity_key(parent.name), *(_also_reset(parent) or ((), ""))[0])
    return keys, reason.format(parent=parent.name)


ALSO_RESET: dict[str, tuple[tuple[str, ...], str]] = {
    spec.name: found for spec in FIXED_TABLES if (found := _also_reset(spec)) is not None
}
"""Entity tables whose re-extraction needs other keys reset as well, and why."""


@dataclass
class ResetPlan:
    table: str
    changes: dict[str, Doc] = field(default_factory=dict)
    """State key → its new document, or None for a tombstone (the key is forgotten)."""
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def describe(self) -> list[str]:
        if self.empty:
            return [f"{self.table}: no state to reset (it has not been synced, or was reset already)"]
        lines = [f"{self.table}: the next sync extracts it again; state keys changed:"]
        for key, doc in sorted(self.changes.items()):
            lines.append(f"  {key}: {'forgotten (tombstone)' if doc is None else 'updated'}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return lines


def plan_reset(target: TargetTable, states: Mapping[str, Mapping[str, Any]]) -> ResetPlan:
    """What resetting ``target`` changes in ``states``; keys that hold nothing are left out."""
    plan = ResetPlan(target.name)
    if target.kind is TableKind.ACTIVITY:
        _plan_activity(plan, target.type_id, states)
        return plan
    keys = list(target.state_keys())
    extra = ALSO_RESET.get(target.name)
    if extra is not None:
        keys.extend(extra[0])
        plan.notes.append(f"also resets {', '.join(extra[0])}: {extra[1]}")
    if LEADS_KEY in keys:
        plan.notes.append(
            "with the lead state reset the next sync is a first run for entities too: every program, list "
            "membership and lead's opportunity roles are read again"
        )
    expanded = [found for key in dict.fromkeys(keys) for found in _stored_under(key, states)]
    plan.changes = dict.fromkeys(expanded)
    if target.kind is TableKind.CUSTOM_OBJECT and windows_key(target.name) in plan.changes:
        plan.notes.append("its updatedAt windows are exported again back to the horizon")
    return plan


def _stored_under(key: str, states: Mapping[str, Any]) -> list[str]:
    """The stored keys for ``key``: itself, and an entity table's fingerprint shards (``<key>/<nn>``)."""
    return [found for found in states if found == key or found.startswith(key + "/")]


def _plan_activity(plan: ResetPlan, type_id: int, states: Mapping[str, Mapping[str, Any]]) -> None:
    if ACTIVITIES_KEY not in states:
        return
    state = ActivityState.from_json(states[ACTIVITIES_KEY])
    had = state.done.pop(type_id, None)
    in_flight = [label for label, p in state.exports.items() if type_id in p.type_ids]
    if had is None and not in_flight:
        return
    for label in in_flight:
        state.exports.pop(label)  # resumed, it would skip the rows already committed for the other types
    plan.changes.update(state.documents())
    if RECENT_KEY in states:
        plan.changes[RECENT_KEY] = None  # otherwise the lookback's activities would be skipped as seen
    plan.notes.append(
        f"activity type {type_id} forgets its finished windows"
        + (f" and {len(in_flight)} in-flight export(s)" if in_flight else "")
    )
    plan.notes.append(
        "windows are exported for every activity type together: the other types' activities in those windows "
        "are published again (same keys, so upserting consumers see no change)"
    )


def reset_table(settings: Settings, target: TargetTable) -> ResetPlan:
    """Fences the running sync, plans against the state read after fencing, and commits the plan."""
    sink = KafkaSink(sink_config(settings))
    try:
        states = sink.open()
        plan = plan_reset(target, states)
        if not plan.empty:
            with sink.transaction() as batch:
                for key, doc in plan.changes.items():
                    batch.put_state(key, doc)
        return plan
    finally:
        sink.close()
