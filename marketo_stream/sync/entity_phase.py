"""The entity phase: every table the catalog gives a ``Reader``, read in the readers' order.

- Complete listings each run (deletes detected): activity types, lead describe, campaigns, static lists,
  programs, forms, companies.
- Per parent (program), fetched for every parent on the first run and later for parents that changed or that
  membership activities (Change Status in Progression, Add to Nurture) name: details (tags, costs), members.
- Static list membership: a full listing per list on the first run; later, Add to List / Remove from List
  activities upsert and tombstone members (the activity date is the membership's ``createdAt``).
- Opportunity roles are read per lead: every lead loaded on the first run, later the leads that activities
  name. Opportunities are read by the external ids their roles name (one without any role is not found).
- Custom objects come from bulk exports over ``updatedAt`` windows.
- Whatever hangs off a lead that was deleted or merged away (memberships, roles, custom objects) is deleted.
- Email templates: every version Marketo shows (approved and draft) is kept as its own record; none are
  ever deleted, it is a history.

Which table is read how is the catalog's declaration (``TableSpec.reader``, ``parent``, ``rows_at``,
``tag_column``); the readers (``entity_readers``) know kinds of table, not tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.sync.catalog import Metadata
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.entities import EntityListing, tag_by
from marketo_stream.sync.entity_readers import READERS, Listed
from marketo_stream.sync.published import Row
from marketo_stream.sync_state import SyncState
from marketo_stream.tables import FIXED_TABLES, Reader, TableSpec


def sync_entities(
    inputs: RunInputs,
    state: SyncState,
    meta: Metadata,
    effects: Effects,
    tally: Tally,
    *,
    gone_lead_ids: set[int],
    loaded_lead_ids: set[int],
) -> None:
    """Every entity table the catalog gives a reader; each listing commits its own state (``EntityState`` and
    custom object windows, loaded from ``state``) with its records. ``effects`` are used up."""
    EntityPhase(inputs, state, meta, tally, gone_lead_ids=gone_lead_ids, loaded_lead_ids=loaded_lead_ids).run(effects)


class EntityPhase:
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

    def run(self, effects: Effects) -> None:
        self.effects = effects
        self.lead_ids |= effects.leads_to_refresh | effects.opportunity_leads
        specs = self.specs()
        for reader in Reader:
            mine = [spec for spec in specs if spec.reader is reader]
            if mine:
                READERS[reader](self, mine)

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

    def lead_gone(self, key: Row) -> bool:
        return str(key.get("lead_id")) in self.gone_text

    def listing(self, spec: TableSpec) -> EntityListing | None:
        """The table's listing, None when it is blocked."""
        table = self.inputs.tables.published.get(spec.name)
        if table is None:
            return None
        tag = tag_by(spec.tag_column) if spec.tag_column else None
        return EntityListing(self.inputs, self.tally, table, self.state.entity(spec.name), tag)

    @staticmethod
    def rows(pages: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for page in pages:
            yield from page.rows
