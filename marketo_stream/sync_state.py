"""The sync's memory between runs, as it is stored in the compacted state topic (one record per key).

Each record is committed in the same Kafka transaction as the data it describes, so after a crash the state
says exactly what was published. This module is the only one that knows the keys and the shape of their
documents: the phases get typed state from ``SyncState.load`` and hand typed state back to the functions that
encode it (``*.documents()``). The content is versioned (``STATE_VERSION``); ``upgrade_states`` turns the
documents of any older version into the current shape, step by step (``state_migrations``), and a newer one is
refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from marketo_stream.activity_effects import Effects
from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant
from marketo_stream.state_migrations import (
    ACTIVITIES_KEY,
    CALLS_KEY,
    DELETED_LEADS_KEY,
    EFFECTS_KEY,
    ENTITY_PREFIX,
    ENTITY_SHARDS,
    LEADS_KEY,
    RECENT_KEY,
    RUN_KEY,
    SCHEMAS_KEY,
    STATE_VERSION,
    TAIL_KEY,
    WINDOWS_PREFIX,
    StateVersionError,
    effects_shard_key,
    entity_key,
    shard_index,
    upgrade,
    upgrade_states,
    version_of,
    windows_key,
)

__all__ = [
    "ACTIVITIES_KEY",
    "CALLS_KEY",
    "DELETED_LEADS_KEY",
    "EFFECTS_KEY",
    "ENTITY_PREFIX",
    "ENTITY_SHARDS",
    "LEADS_KEY",
    "RECENT_KEY",
    "RUN_KEY",
    "SCHEMAS_KEY",
    "STATE_VERSION",
    "TAIL_KEY",
    "WINDOWS_PREFIX",
    "ActivityState",
    "CursorState",
    "EntityState",
    "ExportProgress",
    "LeadState",
    "RecentActivities",
    "RecentCalls",
    "SchemaIds",
    "StateDocuments",
    "StateVersionError",
    "SyncState",
    "TailState",
    "WindowsDone",
    "effects_documents",
    "entity_key",
    "load_effects",
    "shard_index",
    "upgrade",
    "upgrade_states",
    "windows_key",
]

StateDocuments = dict[str, dict[str, Any] | None]
"""What a phase hands the writer to commit: state key to document (None resets the key)."""


@dataclass
class ExportProgress:
    """An export we created and have not finished publishing; its id lets a restart reuse the job."""

    window: Interval
    type_ids: tuple[int, ...]
    export_id: str | None = None
    rows_committed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "window": self.window.to_json(),
            "types": list(self.type_ids),
            "export_id": self.export_id,
            "rows": self.rows_committed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportProgress:
        return cls(Interval.from_json(data["window"]), tuple(data["types"]), data.get("export_id"), data["rows"])


@dataclass
class ActivityState:
    done: dict[int, IntervalSet] = field(default_factory=dict)
    """Finished intervals per activity type id."""
    exports: dict[str, ExportProgress] = field(default_factory=dict)
    """In-flight exports by window label."""
    rows_per_day: float | None = None

    def done_for(self, type_ids: list[int]) -> IntervalSet:
        """What every one of ``type_ids`` has finished: the windows the group need not fetch again."""
        result: IntervalSet | None = None
        for type_id in type_ids:
            mine = self.done.get(type_id, IntervalSet())
            result = mine if result is None else result.intersection(mine)
        return result or IntervalSet()

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "done": {str(k): v.to_json() for k, v in sorted(self.done.items())},
            "exports": {k: v.to_json() for k, v in self.exports.items()},
            "rows_per_day": self.rows_per_day,
        }

    def documents(self) -> StateDocuments:
        return {ACTIVITIES_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ActivityState:
        if not data:
            return cls()
        data = upgrade(data)
        return cls(
            done={int(k): IntervalSet.from_json(v) for k, v in data.get("done", {}).items()},
            exports={k: ExportProgress.from_json(v) for k, v in data.get("exports", {}).items()},
            rows_per_day=data.get("rows_per_day"),
        )


@dataclass
class RecentActivities:
    """GUIDs (with their activity date, epoch seconds) published within the lookback: a re-read skips them."""

    guids: dict[str, int] = field(default_factory=dict)

    def prune(self, cutoff: datetime) -> None:
        limit = int(cutoff.timestamp())
        self.guids = {guid: at for guid, at in self.guids.items() if at >= limit}

    def to_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "guids": self.guids}

    def documents(self) -> StateDocuments:
        return {RECENT_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RecentActivities:
        if not data:
            return cls()
        data = upgrade(data)
        return cls({str(k): int(v) for k, v in data.get("guids", {}).items()})


@dataclass
class TailState:
    """Where the streaming tail (``sync/tail.py``) resumes: a paging token per group of activity types (label: the
    type ids joined by commas) and one for deleted leads (``DELETED``), all opened at or beyond ``end``, the end of
    the activity windows when the tail last committed. A bulk pass that moves that end makes the tokens stale: the
    tail then opens new ones at the new end (``tokens_for``)."""

    DELETED = "deleted"

    tokens: dict[str, str] = field(default_factory=dict)
    end: datetime | None = None

    def tokens_for(self, windows_end: datetime | None) -> dict[str, str]:
        """The tokens still valid when the bulk windows end at ``windows_end`` (none once a bulk pass moved it)."""
        if self.end is None or windows_end is None or format_instant(self.end) != format_instant(windows_end):
            return {}
        return dict(self.tokens)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "tokens": dict(sorted(self.tokens.items())),
            "end": format_instant(self.end) if self.end else None,
        }

    def documents(self) -> StateDocuments:
        return {TAIL_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> TailState:
        if not data:
            return cls()
        data = upgrade(data)
        end = data.get("end")
        return cls({str(k): str(v) for k, v in data.get("tokens", {}).items()}, parse_instant(end) if end else None)


@dataclass
class RecentCalls:
    """Our Marketo calls within the rate window, as the last commit saw them (epoch seconds)."""

    at: float | None = None
    calls: list[float] = field(default_factory=list)
    ended: bool = False
    """Written by a run's final commit: it made (nearly) no call after."""

    def to_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "at": self.at, "calls": self.calls, "ended": self.ended}

    def documents(self) -> StateDocuments:
        return {CALLS_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RecentCalls:
        if not data:
            return cls()
        data = upgrade(data)
        return cls(data.get("at"), [float(at) for at in data.get("calls", ())], bool(data.get("ended")))


@dataclass
class LeadState:
    done: IntervalSet = field(default_factory=IntervalSet)
    """``createdAt`` windows finished by the initial bulk load."""
    initial_load_complete: bool = False
    exports: dict[str, ExportProgress] = field(default_factory=dict)
    pending_refresh: set[int] = field(default_factory=set)
    """Leads named by activities, committed with those activities and re-read in the same run."""

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "done": self.done.to_json(),
            "initial_load_complete": self.initial_load_complete,
            "exports": {k: v.to_json() for k, v in self.exports.items()},
            "pending_refresh": sorted(self.pending_refresh),
        }

    def documents(self) -> StateDocuments:
        return {LEADS_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> LeadState:
        if not data:
            return cls()
        data = upgrade(data)
        return cls(
            done=IntervalSet.from_json(data.get("done", [])),
            initial_load_complete=bool(data.get("initial_load_complete")),
            exports={k: ExportProgress.from_json(v) for k, v in data.get("exports", {}).items()},
            pending_refresh=set(data.get("pending_refresh", ())),
        )


@dataclass
class CursorState:
    """A date cursor (deleted leads) or the last successful run."""

    at: datetime | None = None

    def deleted_leads_documents(self) -> StateDocuments:
        return {DELETED_LEADS_KEY: self.to_json()}

    def run_documents(self) -> StateDocuments:
        return {RUN_KEY: self.to_json()}

    def to_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "at": format_instant(self.at) if self.at else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CursorState:
        if not data:
            return cls()
        data = upgrade(data)
        at = data.get("at")
        return cls(parse_instant(at) if at else None)


class ShardedRows(MutableMapping[str, str]):
    """Fingerprints by key text, held shard by shard: a checkpoint writes the shards that changed without walking
    every row of the table (a listing of 100,000 memberships checkpoints twenty times)."""

    __slots__ = ("shards",)

    def __init__(self) -> None:
        self.shards: list[dict[str, str]] = [{} for _ in range(ENTITY_SHARDS)]

    def __getitem__(self, key_text: str) -> str:
        return self.shards[shard_index(key_text)][key_text]

    def get(self, key_text: str, default: Any = None) -> Any:
        return self.shards[shard_index(key_text)].get(key_text, default)

    def __setitem__(self, key_text: str, mark: str) -> None:
        self.shards[shard_index(key_text)][key_text] = mark

    def __delitem__(self, key_text: str) -> None:
        del self.shards[shard_index(key_text)][key_text]

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self.shards)

    def __len__(self) -> int:
        return sum(map(len, self.shards))


@dataclass
class EntityState:
    """Fingerprints of the rows last published, by key: unchanged rows are not sent again, and keys that
    vanish from a full listing become tombstones."""

    rows: ShardedRows = field(default_factory=ShardedRows)
    complete: bool = False
    read_at: datetime | None = None
    """When the last complete listing ended (the run's instant): tables without a change feed in Marketo
    (``TableSpec.change_feed``) are read in full again only when it is old enough."""
    dirty: set[int] = field(default_factory=set, repr=False)
    """Shards changed since the last ``documents``."""

    def put(self, key_text: str, mark: str) -> None:
        index = shard_index(key_text)
        self.rows.shards[index][key_text] = mark
        self.dirty.add(index)

    def drop(self, key_text: str) -> None:
        index = shard_index(key_text)
        if self.rows.shards[index].pop(key_text, None) is not None:
            self.dirty.add(index)

    @classmethod
    def load(cls, states: Mapping[str, Mapping[str, Any] | None], table: str) -> EntityState:
        """The table's index and shards, upgraded; rows that an older index held itself are written to their
        shards on the next commit (the index is rewritten without them)."""
        index = entity_key(table)
        mine = {key: doc for key, doc in states.items() if key == index or key.startswith(index + "/")}
        legacy = bool((mine.get(index) or {}).get("rows"))
        current = upgrade_states(mine)
        doc = current.get(index) or {}
        read_at = doc.get("read_at")
        state = cls(complete=bool(doc.get("complete")), read_at=parse_instant(read_at) if read_at else None)
        for key, doc in current.items():
            if key != index:
                shard = int(key.rpartition("/")[2])
                state.rows.shards[shard].update(doc.get("rows", {}))
                if legacy:
                    state.dirty.add(shard)
        return state

    def documents(self, table: str) -> dict[str, dict[str, Any]]:
        """The index and every shard changed since the last call."""
        index = entity_key(table)
        docs: dict[str, dict[str, Any]] = {index: {"v": STATE_VERSION, "complete": self.complete}}
        if self.read_at is not None:
            docs[index]["read_at"] = format_instant(self.read_at)
        for shard in sorted(self.dirty):
            docs[f"{index}/{shard:02d}"] = {"v": STATE_VERSION, "rows": dict(self.rows.shards[shard])}
        self.dirty.clear()
        return docs


@dataclass
class WindowsDone:
    """The ``updatedAt`` windows of a custom object table that are published."""

    done: IntervalSet = field(default_factory=IntervalSet)

    @classmethod
    def load(cls, states: Mapping[str, Mapping[str, Any] | None], table: str) -> WindowsDone:
        doc = states.get(windows_key(table))
        return cls(IntervalSet.from_json(upgrade(doc).get("done", []))) if doc else cls()

    def documents(self, table: str) -> StateDocuments:
        return {windows_key(table): {"v": STATE_VERSION, "done": self.done.to_json()}}


def load_effects(states: Mapping[str, Mapping[str, Any] | None]) -> Effects:
    """The effects' index and list change shards, upgraded; shards an older index held itself are written on the
    next commit."""
    mine = {key: doc for key, doc in states.items() if key == EFFECTS_KEY or key.startswith(EFFECTS_KEY + "/")}
    index = mine.get(EFFECTS_KEY)
    if not index:
        return Effects()
    legacy = version_of(index) < 3
    current = upgrade_states(mine)
    effects = Effects.from_json(current[EFFECTS_KEY])
    for key, doc in current.items():
        if key != EFFECTS_KEY:
            effects.absorb_shard(doc.get("rows", {}))
    if not legacy:
        effects.list_changes.take_dirty()  # as stored
    return effects


def effects_documents(effects: Effects) -> StateDocuments:
    """The index, and every list change shard changed since the last call (None for one left empty)."""
    docs: StateDocuments = {EFFECTS_KEY: {"v": STATE_VERSION, **effects.to_json(list_changes=False)}}
    for shard in effects.list_changes.take_dirty():
        rows = effects.shard_json(shard)
        docs[effects_shard_key(shard)] = {"v": STATE_VERSION, "rows": rows} if rows else None
    return docs


@dataclass
class SchemaIds:
    """The schema ids records were written with, by subject, each with the fingerprint (SHA-256 of the parsing
    canonical form) of its schema: the registry must keep meaning those schemas by those ids, or the records
    already published no longer decode. Ids only accumulate: old records keep the ids of older versions."""

    subjects: dict[str, dict[int, str]] = field(default_factory=dict)

    def merged(self, written: Mapping[str, Mapping[int, str]]) -> SchemaIds:
        subjects = {subject: dict(ids) for subject, ids in self.subjects.items()}
        for subject, ids in written.items():
            subjects.setdefault(subject, {}).update(ids)
        return SchemaIds(subjects)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "subjects": {
                subject: {str(schema_id): print_ for schema_id, print_ in sorted(ids.items())}
                for subject, ids in sorted(self.subjects.items())
            },
        }

    def documents(self) -> StateDocuments:
        return {SCHEMAS_KEY: self.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SchemaIds:
        if not data:
            return cls()
        data = upgrade(data)
        return cls(
            {
                str(subject): {int(schema_id): str(print_) for schema_id, print_ in ids.items()}
                for subject, ids in data.get("subjects", {}).items()
            }
        )


@dataclass
class SyncState:
    """Everything a run starts from, typed; entity tables and custom object windows are loaded on demand from
    the stored documents (``entity``, ``windows``), since only the tables this run publishes need them."""

    activities: ActivityState
    recent: RecentActivities
    leads: LeadState
    deleted_leads: CursorState
    run: CursorState
    effects: Effects
    calls: RecentCalls
    stored: Mapping[str, Mapping[str, Any] | None] = field(repr=False)
    schemas: SchemaIds = field(default_factory=SchemaIds)
    tail: TailState = field(default_factory=TailState)

    @classmethod
    def load(cls, states: Mapping[str, Mapping[str, Any] | None]) -> SyncState:
        """``states`` as the sink read them (any version up to ``STATE_VERSION``)."""
        return cls(
            activities=ActivityState.from_json(states.get(ACTIVITIES_KEY)),
            recent=RecentActivities.from_json(states.get(RECENT_KEY)),
            leads=LeadState.from_json(states.get(LEADS_KEY)),
            deleted_leads=CursorState.from_json(states.get(DELETED_LEADS_KEY)),
            run=CursorState.from_json(states.get(RUN_KEY)),
            effects=load_effects(states),
            calls=RecentCalls.from_json(states.get(CALLS_KEY)),
            stored=states,
            schemas=SchemaIds.from_json(states.get(SCHEMAS_KEY)),
            tail=TailState.from_json(states.get(TAIL_KEY)),
        )

    def entity(self, table: str) -> EntityState:
        return EntityState.load(self.stored, table)

    def windows(self, table: str) -> WindowsDone:
        return WindowsDone.load(self.stored, table)
