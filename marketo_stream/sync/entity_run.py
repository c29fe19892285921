"""What the entity readers share during one entity phase: the run's inputs and state, the listings, and what
each table's reader found for the readers of its children.

It sits apart from the readers (``entity_readers``) and from the phase that runs them (``entity_phase``) so that
readers depend on it and the phase on both, with no circle between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.intervals import IntervalSet, format_instant
from marketo_stream.planner import done_through
from marketo_stream.sync.catalog import Metadata
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.entities import EntityListing, tag_by
from marketo_stream.sync.published import Row
from marketo_stream.sync_state import SyncState
from marketo_stream.tables import FIXED_TABLES, TableSpec

LEAD_COLUMN = "lead_id"
"""The column naming the lead in every table that hangs off one (memberships, roles, custom objects)."""


@dataclass
class Listed:
    """What a reader found of one table, for the readers of the tables that name it as their parent."""

    keys: list[Row] = field(default_factory=list)
    """Published keys listed this run (the rows themselves where the table is blocked)."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Marketo rows, where a child is found through them."""
    changed: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)

    @property
    def current(self) -> set[int]:
        return {int(key["id"]) for key in self.keys}


class EntityPhase:
    """The readers' shared view of one entity phase."""

    def __init__(
        self,
        inputs: RunInputs,
        state: SyncState,
        meta: Metadata,
        tally: Tally,
        *,
        gone_lead_ids: set[int],
        loaded_lead_ids: set[int],
    ) -> None:
        self.inputs = inputs
        self.state = state
        self.tally = tally
        self.meta = meta
        self.loaded_ids = loaded_lead_ids
        self.lead_ids: set[int] = set()
        """Leads whose roles to read: those activities named (every lead on the first pass)."""
        self.gone = gone_lead_ids
        """Leads deleted or merged away: whatever hangs off them is deleted with them."""
        self.gone_text = {str(lead) for lead in gone_lead_ids}
        self.workers = inputs.settings.marketo.max_concurrency
        """Per-id listings fetched at once, ahead of publishing (the client's budget bounds calls in flight)."""
        self.listed: dict[str, Listed] = {}
        """What each table's reader found, by table name, for the readers of its children."""
        self.effects = Effects()

    def specs(self) -> list[TableSpec]:
        """The catalog's fixed tables and this run's custom objects."""
        return [*FIXED_TABLES, *(table.spec for table in self.inputs.tables.custom_objects.values())]

    def use(self, effects: Effects) -> None:
        """This run's membership effects: they name the leads whose roles to read again."""
        self.effects = effects
        self.lead_ids |= effects.leads_to_refresh | effects.opportunity_leads

    # -- what the readers share --------------------------------------------------------------------------------

    def all_lead_ids(self) -> set[int]:
        """Every published lead: Marketo lists roles only by lead, so a first pass asks for all of them. They are
        read back from the lead topic; where lead ids are hashed, only the leads this run loaded are known."""
        lead = self.inputs.tables.lead
        if lead is None:
            return set()
        if lead.avro.key_schema["fields"][0]["type"] != "long":
            if not self.loaded_ids:
                self.tally.warnings.append(
                    "lead ids are hashed and this run loaded no leads: opportunity roles of earlier leads are not read"
                )
            return set(self.loaded_ids)
        return {int(key["id"]) for key in self.inputs.writer.live_keys(lead)}

    def window_due(self, spec: TableSpec, done: IntervalSet) -> bool:
        """Whether this run exports the ``updatedAt`` span since the last window of a table Marketo tells no
        changes of (``TableSpec.change_feed``: custom objects). Always while its history is not complete; after
        that once ``sync.full_reread_minutes`` have passed since the end of the last window: the span waits and
        grows, one job instead of one a run, nothing skipped."""
        latest = done_through(done, horizon=self.inputs.horizon, now=self.inputs.now)
        if spec.change_feed or latest is None:
            return True
        return self._reread_due(spec.name, latest, f"changes since {format_instant(latest)} wait (last export")

    def full_read_due(self, listing: EntityListing) -> bool:
        """Whether this run reads every known row of the table again. Always, for a table Marketo tells changes
        of (``TableSpec.change_feed``) and for one never read in full; for the others (companies, opportunities:
        a call per 300 known rows, every run) only once ``sync.full_reread_minutes`` have passed since the last
        complete listing. Until then a change or a delete of a known row waits for that listing."""
        state = listing.state
        if listing.table.spec.change_feed or not state.complete or state.read_at is None:
            return True
        return self._reread_due(listing.table.name, state.read_at, "new rows only (read in full")

    def _reread_due(self, table: str, since: datetime, waiting: str) -> bool:
        """Whether ``sync.full_reread_minutes`` have passed since ``since``; if not, the progress says what waits."""
        minutes = self.inputs.settings.sync.full_reread_minutes
        age = (self.inputs.now - since).total_seconds() / 60
        if age < minutes:
            self.inputs.progress.step(
                f"{table}: {waiting} {age:.0f} min ago; again after sync.full_reread_minutes = {minutes:g})"
            )
        return age >= minutes

    def lead_gone(self, key: Row) -> bool:
        return str(key.get(LEAD_COLUMN)) in self.gone_text

    def listing(self, spec: TableSpec) -> EntityListing | None:
        """The table's listing, None when it is blocked."""
        table = self.inputs.tables.published.get(spec.name)
        if table is None:
            return None
        tag = tag_by(spec.tag_column) if spec.tag_column else None
        return EntityListing(self.inputs, self.tally, table, self.state.entity(spec.name), tag, self.row_of_gone_lead)

    def row_of_gone_lead(self, value: Row) -> bool:
        """Whether a table's row hangs off a lead deleted or merged away (its ``lead_id``, in the key or as the tag):
        whichever listing or activity names it, it must not stay live."""
        lead = value.get(LEAD_COLUMN)
        return lead is not None and str(lead) in self.gone_text

    @staticmethod
    def rows(pages: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for page in pages:
            yield from page.rows
