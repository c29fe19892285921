"""The sync state as an operator reads it: fetched read_committed (no producer, so a running sync is not fenced),
rendered one block per state key, or as JSON for scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketo_stream.connections import kafka_client_config
from marketo_stream.intervals import IntervalSet
from marketo_stream.settings import Settings
from marketo_stream.sink.state import read_state
from marketo_stream.sync_state import (
    ACTIVITIES_KEY,
    DELETED_LEADS_KEY,
    ENTITY_PREFIX,
    LEADS_KEY,
    RECENT_KEY,
    RUN_KEY,
    WINDOWS_PREFIX,
    ActivityState,
    CursorState,
    EntityState,
    ExportProgress,
    LeadState,
    RecentActivities,
    WindowsDone,
)

States = Mapping[str, Mapping[str, Any]]


def read_sync_state(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every key's last committed state; only reads, so it is safe beside a running sync."""
    kafka = settings.kafka
    return read_state(kafka_client_config(kafka), kafka.effective_state_topic(), kafka.connect_timeout_seconds)


def state_as_json(states: States) -> dict[str, Any]:
    """The state documents as stored, keys sorted: what ``state show --json`` prints."""
    return {key: states[key] for key in sorted(states)}


def describe_intervals(done: IntervalSet, limit: int = 6) -> str:
    if not len(done):
        return "none"
    days = done.total().total_seconds() / 86400
    items = [str(i) for i in done]
    shown = ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")
    return f"{days:.1f} days in {len(items)} interval(s): {shown}"


def _exports(exports: Mapping[str, ExportProgress]) -> list[str]:
    return [
        f"    in flight {label}: job {p.export_id or '(not created)'}, {p.rows_committed:,} rows committed"
        for label, p in sorted(exports.items())
    ]


def _activities(doc: Mapping[str, Any]) -> list[str]:
    state = ActivityState.from_json(doc)
    rate = f"{state.rows_per_day:,.0f}" if state.rows_per_day is not None else "unknown"
    lines = [f"  rows per day (all types): {rate}"]
    for type_id, done in sorted(state.done.items()):
        lines.append(f"    type {type_id}: {describe_intervals(done)}")
    return lines + _exports(state.exports)


def _lead(doc: Mapping[str, Any]) -> list[str]:
    state = LeadState.from_json(doc)
    lines = [
        f"  initial load done: {'yes' if state.initial_load_complete else 'no'}",
        f"  windows loaded: {describe_intervals(state.done)}",
        f"  leads waiting to be re-read: {len(state.pending_refresh)}",
    ]
    return lines + _exports(state.exports)


def _cursor(label: str, doc: Mapping[str, Any]) -> list[str]:
    at = CursorState.from_json(doc).at
    return [f"  {label}: {at.isoformat() if at else 'never'}"]


def _entity(key: str, states: Mapping[str, Mapping[str, Any]]) -> list[str]:
    state = EntityState.load(states, key.removeprefix(ENTITY_PREFIX))
    return [f"  rows known: {len(state.rows):,}", f"  complete listing seen: {'yes' if state.complete else 'no'}"]


def describe_key(key: str, doc: Mapping[str, Any], states: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    if key == ACTIVITIES_KEY:
        return _activities(doc)
    if key == RECENT_KEY:
        return [f"  activities remembered within the lookback: {len(RecentActivities.from_json(doc).guids):,}"]
    if key == LEADS_KEY:
        return _lead(doc)
    if key == DELETED_LEADS_KEY:
        return _cursor("deleted leads read up to", doc)
    if key == RUN_KEY:
        return _cursor("last successful run", doc)
    if key.startswith(ENTITY_PREFIX):
        return _entity(key, states or {key: doc})
    if key.startswith(WINDOWS_PREFIX):
        return [
            f"  windows done: {describe_intervals(WindowsDone.load({key: doc}, key.removeprefix(WINDOWS_PREFIX)).done)}"
        ]
    sizes = {name: len(value) for name, value in doc.items() if isinstance(value, list | dict)}
    return [f"  {', '.join(f'{name}: {n} item(s)' for name, n in sorted(sizes.items())) or 'empty'}"]


def render_state(states: States) -> str:
    """One block per state key, the sync's own keys first."""
    if not states:
        return "no sync state yet: the next sync is a first run"
    order = [ACTIVITIES_KEY, RECENT_KEY, LEADS_KEY, DELETED_LEADS_KEY, RUN_KEY]
    shown = [k for k in states if "/" not in k]  # an entity table's shards are shown with its index
    keys = [k for k in order if k in states] + sorted(k for k in shown if k not in order)
    lines: list[str] = []
    for key in keys:
        lines.append(key)
        lines.extend(describe_key(key, states[key], states))
    return "\n".join(lines)
