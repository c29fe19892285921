"""What semantic activities mean for the other tables: leads to re-read, merges, membership changes.

Marketo offers no change feed for leads or memberships, but its activities say what changed: a New Lead
or Change Data Value names a lead to re-read, a Merge Leads names the losers (tombstones) and the winner,
Add/Remove to List and to Opportunity change memberships, Change Status in Progression and Add to Nurture
name programs whose membership changed. This module turns activity rows into those effects; it performs
no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from marketo_stream.state_migrations import EFFECTS_SHARDS, list_change_shard

NEW_LEAD = 12
CHANGE_DATA_VALUE = 13
ADD_TO_LIST = 24
REMOVE_FROM_LIST = 25
MERGE_LEADS = 32
ADD_TO_OPPORTUNITY = 34
REMOVE_FROM_OPPORTUNITY = 35
CHANGE_PROGRESSION_STATUS = 104
ADD_TO_NURTURE = 113

LEAD_CHANGING = frozenset({NEW_LEAD, CHANGE_DATA_VALUE, MERGE_LEADS})
PROGRAM_CHANGING = frozenset({CHANGE_PROGRESSION_STATUS, ADD_TO_NURTURE})
EFFECT_TYPES = LEAD_CHANGING | PROGRAM_CHANGING
EFFECT_TYPES |= {ADD_TO_LIST, REMOVE_FROM_LIST, ADD_TO_OPPORTUNITY, REMOVE_FROM_OPPORTUNITY}
"""The activity types that have an effect; every other activity is ignored here."""
ATTRIBUTES_READ = frozenset({MERGE_LEADS})
"""The effect types whose ``attributes`` an effect reads (the merged ids); the others need only the lead and the
primary attribute, so a reader handing rows over can leave their attributes out."""
LIST_TYPES = frozenset({ADD_TO_LIST, REMOVE_FROM_LIST})
"""The types that change static list membership (and date it)."""


class ListChange(NamedTuple):
    """Ordered by activity date, then GUID (a tuple: cheap to make once per list activity of a large export)."""

    activity_date: str
    marketo_guid: str
    list_id: int
    lead_id: int
    added: bool


ListKey = tuple[int, int]
"""(list id, lead id)."""


class ListChanges(MutableMapping[ListKey, ListChange]):
    """The last change per (list, lead), held shard by shard as the state stores them: a checkpoint rewrites only
    the shards changed since the last one (a first run's history can hold millions of list changes, far more than
    one state record may)."""

    __slots__ = ("dirty", "shards")

    def __init__(self) -> None:
        self.shards: list[dict[ListKey, ListChange]] = [{} for _ in range(EFFECTS_SHARDS)]
        self.dirty: set[int] = set()

    def __getitem__(self, key: ListKey) -> ListChange:
        return self.shards[list_change_shard(*key)][key]

    def get(self, key: ListKey, default: Any = None) -> Any:
        return self.shards[list_change_shard(*key)].get(key, default)

    def __setitem__(self, key: ListKey, change: ListChange) -> None:
        index = list_change_shard(*key)
        self.shards[index][key] = change
        self.dirty.add(index)

    def __delitem__(self, key: ListKey) -> None:
        index = list_change_shard(*key)
        del self.shards[index][key]
        self.dirty.add(index)

    def __iter__(self) -> Iterator[ListKey]:
        for shard in self.shards:
            yield from shard

    def __len__(self) -> int:
        return sum(map(len, self.shards))

    def clear(self) -> None:
        for index, shard in enumerate(self.shards):
            if shard:
                shard.clear()
                self.dirty.add(index)

    def take_dirty(self) -> list[int]:
        """The shards changed since the last call, in order."""
        found, self.dirty = sorted(self.dirty), set()
        return found


@dataclass(slots=True)
class Effects:
    """Accumulates effects over many activities; the last change per key wins, by activity date."""

    leads_to_refresh: set[int] = field(default_factory=set)
    merged_away: set[int] = field(default_factory=set)
    list_changes: ListChanges = field(default_factory=ListChanges)
    opportunity_leads: set[int] = field(default_factory=set)
    programs_to_refresh: set[int] = field(default_factory=set)
    parents_changed: dict[str, set[int]] = field(default_factory=dict)
    """By parent table (program): rows whose listing changed this run, so whose children (details, members) are read
    again; kept until the run's end, since the parent's fingerprints, once committed, no longer tell."""
    parents_gone: dict[str, set[int]] = field(default_factory=dict)
    """By parent table: rows gone this run, whose children are tombstoned."""
    gone_leads: set[int] = field(default_factory=set)
    """Leads deleted or merged away in this run (by ``deletedleads.json``, Merge Leads, or a re-read finding them
    missing): whatever hangs off them (memberships, roles, custom objects) goes with them, even if the run stops
    between their tombstones and the entity phase."""

    def absorb(self, row: Mapping[str, Any]) -> None:
        self.absorb_activity(
            _as_int(row.get("activityTypeId")),
            row.get("leadId"),
            row.get("primaryAttributeValueId"),
            row.get("activityDate"),
            row.get("marketoGUID"),
            row.get("attributes"),
        )

    def absorb_activity(
        self, type_id: int | None, lead: Any, primary_id: Any, activity_date: Any, guid: Any, attributes: Any
    ) -> None:
        """One activity from its columns (``null`` and ``""`` meaning no value); a no-op for types outside
        ``EFFECT_TYPES``, which callers reading many rows check first."""
        if type_id not in EFFECT_TYPES:
            return
        lead_id = _as_int(lead)
        if lead_id is None:
            return
        if type_id in PROGRAM_CHANGING:
            program_id = _as_int(primary_id)
            if program_id is not None:
                self.programs_to_refresh.add(program_id)
        elif type_id in LEAD_CHANGING:
            self.leads_to_refresh.add(lead_id)
            if type_id == MERGE_LEADS:
                for loser in merged_ids(attributes):
                    if loser != lead_id:
                        self.merged_away.add(loser)
        elif type_id in (ADD_TO_LIST, REMOVE_FROM_LIST):
            list_id = _as_int(primary_id)
            if list_id is not None:
                date, marketo_guid = _text(activity_date), _text(guid)
                key = (list_id, lead_id)
                previous = self.list_changes.get(key)
                if previous is None or (date, marketo_guid) >= (previous.activity_date, previous.marketo_guid):
                    self.list_changes[key] = ListChange(date, marketo_guid, list_id, lead_id, type_id == ADD_TO_LIST)
        else:  # added to or removed from an opportunity
            self.opportunity_leads.add(lead_id)

    def absorb_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.absorb(row)

    def merge(self, other: Effects) -> None:
        self.leads_to_refresh |= other.leads_to_refresh
        self.merged_away |= other.merged_away
        self.opportunity_leads |= other.opportunity_leads
        self.programs_to_refresh |= other.programs_to_refresh
        self.gone_leads |= other.gone_leads
        for mine, theirs in ((self.parents_changed, other.parents_changed), (self.parents_gone, other.parents_gone)):
            for table, ids in theirs.items():
                mine.setdefault(table, set()).update(ids)
        for change in other.list_changes.values():
            key = (change.list_id, change.lead_id)
            mine = self.list_changes.get(key)
            if mine is None or (change.activity_date, change.marketo_guid) >= (mine.activity_date, mine.marketo_guid):
                self.list_changes[key] = change

    def clear(self) -> None:
        """Everything used up (a run's end); the list change shards that held anything are marked changed."""
        for found in (self.leads_to_refresh, self.merged_away, self.opportunity_leads, self.programs_to_refresh):
            found.clear()
        self.gone_leads.clear()
        self.parents_changed.clear()
        self.parents_gone.clear()
        self.list_changes.clear()

    def is_empty(self) -> bool:
        return not (
            self.leads_to_refresh
            or self.merged_away
            or self.list_changes
            or self.opportunity_leads
            or self.programs_to_refresh
            or self.gone_leads
            or any(self.parents_changed.values())
            or any(self.parents_gone.values())
        )

    def to_json(self, *, list_changes: bool = True) -> dict[str, Any]:
        """Everything, or everything but the list changes (which the state keeps in shards: ``shard_json``)."""
        found: dict[str, Any] = {
            "leads_to_refresh": sorted(self.leads_to_refresh),
            "merged_away": sorted(self.merged_away),
            "opportunity_leads": sorted(self.opportunity_leads),
            "programs_to_refresh": sorted(self.programs_to_refresh),
            "gone_leads": sorted(self.gone_leads),
            "parents_changed": {table: sorted(ids) for table, ids in sorted(self.parents_changed.items()) if ids},
            "parents_gone": {table: sorted(ids) for table, ids in sorted(self.parents_gone.items()) if ids},
        }
        if list_changes:
            found["list_changes"] = changes_json(self.list_changes.values())
        return found

    def shard_json(self, shard: int) -> dict[str, list[Any]]:
        """One shard of the list changes as the state keeps it: ``{"<list>,<lead>": [date, guid, added]}``."""
        return {
            f"{c.list_id},{c.lead_id}": [c.activity_date, c.marketo_guid, c.added]
            for c in self.list_changes.shards[shard].values()
        }

    def absorb_shard(self, rows: Mapping[str, list[Any]]) -> None:
        """List changes as ``shard_json`` wrote them."""
        for pair, (date, guid, added) in rows.items():
            list_text, _, lead_text = pair.partition(",")
            list_id, lead_id = int(list_text), int(lead_text)
            self.list_changes[(list_id, lead_id)] = ListChange(date, guid, list_id, lead_id, added)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Effects:
        effects = cls(
            leads_to_refresh=set(data.get("leads_to_refresh", ())),
            merged_away=set(data.get("merged_away", ())),
            opportunity_leads=set(data.get("opportunity_leads", ())),
            programs_to_refresh=set(data.get("programs_to_refresh", ())),
            gone_leads=set(data.get("gone_leads", ())),
            parents_changed={table: set(ids) for table, ids in data.get("parents_changed", {}).items()},
            parents_gone={table: set(ids) for table, ids in data.get("parents_gone", {}).items()},
        )
        for date, guid, list_id, lead_id, added in data.get("list_changes", ()):
            effects.list_changes[(list_id, lead_id)] = ListChange(date, guid, list_id, lead_id, added)
        return effects


def changes_json(changes: Iterable[ListChange]) -> list[list[Any]]:
    return [[c.activity_date, c.marketo_guid, c.list_id, c.lead_id, c.added] for c in sorted(changes)]


def merged_ids(attributes: object) -> list[int]:
    """The lead ids a Merge Leads activity folded into the winner ("Merge IDs": a list, or its JSON text)."""
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            return []
    if isinstance(attributes, list):  # REST form: [{"name": ..., "value": ...}]
        attributes = {item.get("name"): item.get("value") for item in attributes if isinstance(item, dict)}
    if not isinstance(attributes, Mapping):
        return []
    raw = attributes.get("Merge IDs", attributes.get("Merge Ids"))
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [part for part in raw.replace("[", "").replace("]", "").split(",") if part.strip()]
    if isinstance(raw, int | str):
        raw = [raw]
    if not isinstance(raw, list):
        return []
    return [value for value in (_as_int(item) for item in raw) if value is not None]


def _text(value: object) -> str:
    if value.__class__ is str:
        return "" if value == "null" else value
    return "" if value is None else str(value)


def _as_int(value: object) -> int | None:
    if value is None or value == "" or value == "null":
        return None
    try:
        return int(value if value.__class__ is str else str(value))
    except ValueError:
        return None
