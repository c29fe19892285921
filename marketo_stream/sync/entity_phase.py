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

from marketo_stream.activity_effects import Effects
from marketo_stream.sync.catalog import Metadata
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.entity_readers import READERS
from marketo_stream.sync.entity_run import EntityPhase
from marketo_stream.sync_state import SyncState
from marketo_stream.tables import Reader


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
    phase = EntityPhase(inputs, state, meta, tally, gone_lead_ids=gone_lead_ids, loaded_lead_ids=loaded_lead_ids)
    phase.use(effects)
    specs = phase.specs()
    for reader in Reader:
        mine = [spec for spec in specs if spec.reader is reader]
        if mine:
            with inputs.progress.table(",".join(spec.name for spec in mine)):  # a per-table reader names each one
                READERS[reader](phase, mine)
