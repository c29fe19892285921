"""The sync's memory between runs, as it is stored in the compacted state topic (one record per key).

Each record is committed in the same Kafka transaction as the data it describes, so after a crash the state
says exactly what was published. The content is versioned (``STATE_VERSION``); ``upgrade`` turns any older
document into the current shape, step by step, and a newer one is refused rather than misread.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from marketo_stream.errors import MarketoStreamError
from marketo_stream.intervals import Interval, IntervalSet, format_instant, parse_instant

STATE_VERSION = 1

ACTIVITIES_KEY = "activities"
RECENT_KEY = "activities.recent"
LEADS_KEY = "lead"
DELETED_LEADS_KEY = "deleted_leads"
RUN_KEY = "run"


def entity_key(table: str) -> str:
    return f"entity.{table}"


class StateVersionError(MarketoStreamError):
    """The state topic was written by a newer marketo-stream; upgrade this one instead of misreading it."""


def upgrade(doc: Mapping[str, Any]) -> dict[str, Any]:
    version = int(doc.get("v", 1))
    if version > STATE_VERSION:
        raise StateVersionError(
            f"state written by a newer marketo-stream (state version {version}, this one reads up to "
            f"{STATE_VERSION}); upgrade marketo-stream"
        )
    out = dict(doc)
    # future: if version == 1: out = _v1_to_v2(out) ...
    out["v"] = STATE_VERSION
    return out


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

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RecentActivities:
        if not data:
            return cls()
        data = upgrade(data)
        return cls({str(k): int(v) for k, v in data.get("guids", {}).items()})


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

    def to_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "at": format_instant(self.at) if self.at else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CursorState:
        if not data:
            return cls()
        data = upgrade(data)
        at = data.get("at")
        return cls(parse_instant(at) if at else None)


ENTITY_SHARDS = 64
"""Fingerprints of one entity table are spread over this many state records (``entity.<table>/<nn>``), so
that no record outgrows Kafka's 1 MB message limit (about 1.5 million rows per table) and a checkpoint
rewrites only the shards that changed."""


def shard_index(key_text: str) -> int:
    return zlib.crc32(key_text.encode()) % ENTITY_SHARDS


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
    def load(cls, states: Mapping[str, Mapping[str, Any]], table: str) -> EntityState:
        """The table's index and shards; a version-1 single document (rows inside the index) is split on its
        next write."""
        index = entity_key(table)
        state = cls()
        head = states.get(index)
        if head:
            head = upgrade(head)
            state.complete = bool(head.get("complete"))
            legacy = head.get("rows")
            if legacy:
                for text, mark in legacy.items():
                    state.put(text, mark)
        for key, doc in states.items():
            if key.startswith(index + "/") and doc:
                state.rows.update(upgrade(doc).get("rows", {}))
        return state

    def documents(self, table: str) -> dict[str, dict[str, Any]]:
        """The index and every shard changed since the last call."""
        index = entity_key(table)
        docs: dict[str, dict[str, Any]] = {index: {"v": STATE_VERSION, "complete": self.complete}}
        for shard in sorted(self.dirty):
            docs[f"{index}/{shard:02d}"] = {"v": STATE_VERSION, "rows": dict(self.rows.shards[shard])}
        self.dirty.clear()
        return docs
