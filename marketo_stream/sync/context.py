"""What every phase of a run shares: the clients, the writer, this run's tables, the state and the report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.bulk.csvfile import QuarantinedRow
from marketo_stream.bulk.exporter import BulkExporter
from marketo_stream.intervals import utc
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.report import Progress, SyncSummary
from marketo_stream.settings import Settings
from marketo_stream.sync.catalog import RunTables
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import (
    ActivityState,
    LeadState,
    RecentActivities,
    StateDocuments,
    SyncState,
    effects_documents,
)

ACTIVITY_RETENTION = timedelta(days=760)
"""Marketo keeps most activities 25 months; older history cannot be extracted."""


@dataclass
class RunContext:
    settings: Settings
    client: MarketoClient
    exporter: BulkExporter
    writer: Writer
    tables: RunTables
    state: SyncState
    summary: SyncSummary
    progress: Progress
    now: datetime
    activities: ActivityState = field(init=False)
    recent: RecentActivities = field(init=False)
    leads: LeadState = field(init=False)
    effects: Effects = field(init=False)

    def __post_init__(self) -> None:
        self.activities = self.state.activities
        self.recent = self.state.recent
        self.leads = self.state.leads
        self.effects = self.state.effects

    @property
    def horizon(self) -> datetime:
        start = self.settings.sync.start_date
        oldest = self.now - ACTIVITY_RETENTION
        return oldest if start is None else max(utc(start), oldest)

    persist_effects: bool = True
    """False on a first run: its effects only date list memberships and need not survive a crash."""

    def effect_states(self) -> StateDocuments:
        return effects_documents(self.effects) if self.persist_effects else {}

    def activity_states(self) -> StateDocuments:
        return {**self.activities.documents(), **self.effect_states()}

    def lead_states(self) -> StateDocuments:
        return {**self.leads.documents(), **self.effect_states()}

    def quarantine(self, row: QuarantinedRow) -> None:
        """Malformed export rows are kept for a person to look at, never silently dropped."""
        self._keep({"file": str(row.file), "line": row.line, "reason": row.reason, "fields": row.fields})

    def reject(self, table: str, row: Mapping[str, Any], error: Exception) -> None:
        """A row whose value does not fit its column: kept in the quarantine file, counted in the summary."""
        self._keep({"table": table, "reason": str(error), "row": dict(row)})

    def _keep(self, entry: dict[str, Any]) -> None:
        self.summary.quarantined_rows += 1
        path = Path(self.settings.sync.work_dir) / "quarantine.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, default=str) + "\n")
