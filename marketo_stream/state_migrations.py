"""The state topic's keys, its version, and the steps that bring a document of any earlier version up to date.

A state document carries its version in ``"v"`` (a document without one is version 1). Reading never fails on
an old document and never misreads a newer one: ``upgrade_states`` applies ``MIGRATIONS`` one version at a
time, and refuses a version above ``STATE_VERSION``. The typed documents live in ``sync_state``, which every
other module goes through.

History:

1. The first layout. An entity table kept its fingerprints in its index document (``entity.<table>``,
   ``{"rows": {...}, "complete": ...}``); later releases of version 1 moved them into 64 shard documents
   (``entity.<table>/<nn>``) without changing the version. Custom object windows (``windows.<table>``) and
   the activity effects (``effects``) carried no version. A fingerprint tagged with a null column (an
   opportunity without an external id) was tagged ``None``.
2. Entity fingerprints live in shards only, a null tag is empty, and every document carries ``"v"``.
3. The effects are committed by every run, a first run included (a first run stopped after its activities
   found them nowhere else), so they are sharded too: ``effects`` keeps the lead and program sets and the run's
   gone leads (``gone_leads``, new: whatever hangs off them must go even if the run stops before the entity
   phase) and the parent rows (programs) that changed or went (``parents_changed``, ``parents_gone``, new: their
   children are read or tombstoned even if the run stops after the parent's listing); the list changes, once
   inline, live in ``effects/<nn>`` by (list, lead). New key ``calls.recent``: our Marketo calls within the rate
   window when the last transaction committed (``at``, ``calls`` in epoch seconds, ``ended`` when the run finished),
   so that a run started right after a killed one keeps Marketo's window (no 606); older versions have none.
4. A new key, ``schemas``: the schema id of every subject the sync wrote with and the fingerprint of its schema
   (``{"subjects": {subject: {id: sha256 of the parsing canonical form}}}``), checked against the registry at
   every start. Nothing else changed; a version-3 state has no ids to check, and the run after the upgrade
   keeps the ids it writes with.
5. A new key, ``activities.tail``: the streaming tail of ``sync --follow`` (``sync/tail.py``): one paging token per
   group of activity types and one for deleted leads (``tokens``), and the end of the activity windows those tokens
   were opened at or last extended to (``end``; a bulk pass that moves the end makes the tail open new tokens).
   Nothing else changed; a version-4 state has no tail, which then starts from the bulk windows' end.
6. An entity index may carry ``read_at``: when the table's last complete listing ended. Tables Marketo gives no
   change feed for (companies, opportunities) are read in full again only when it is ``sync.full_reread_minutes``
   old. A version-5 index has none, so the first run after the upgrade reads every table in full.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Any

from marketo_stream.errors import MarketoStreamError

STATE_VERSION = 6

ACTIVITIES_KEY = "activities"
RECENT_KEY = "activities.recent"
TAIL_KEY = "activities.tail"
LEADS_KEY = "lead"
DELETED_LEADS_KEY = "deleted_leads"
RUN_KEY = "run"
EFFECTS_KEY = "effects"
CALLS_KEY = "calls.recent"
SCHEMAS_KEY = "schemas"
ENTITY_PREFIX = "entity."
WINDOWS_PREFIX = "windows."

ENTITY_SHARDS = 64
"""Fingerprints of one entity table are spread over this many state records (``entity.<table>/<nn>``), so
that no record outgrows Kafka's 1 MB message limit (about 1.5 million rows per table) and a checkpoint
rewrites only the shards that changed."""

EFFECTS_SHARDS = 64
"""List changes are spread over this many state records (``effects/<nn>``): a first run's history may hold millions."""

Documents = dict[str, dict[str, Any]]


def effects_shard_key(shard: int) -> str:
    return f"{EFFECTS_KEY}/{shard:02d}"


def list_change_shard(list_id: int, lead_id: int) -> int:
    """Where the change of one (list, lead) is kept."""
    return (list_id * 7919 + lead_id) % EFFECTS_SHARDS


def entity_key(table: str) -> str:
    return f"{ENTITY_PREFIX}{table}"


def shard_key(table: str, shard: int) -> str:
    return f"{entity_key(table)}/{shard:02d}"


def windows_key(table: str) -> str:
    """Where a custom object table keeps its finished ``updatedAt`` windows."""
    return f"{WINDOWS_PREFIX}{table}"


def shard_index(key_text: str) -> int:
    return zlib.crc32(key_text.encode()) % ENTITY_SHARDS


class StateVersionError(MarketoStreamError):
    """The state topic was written by a newer marketo-stream; upgrade this one instead of misreading it."""


def version_of(doc: Mapping[str, Any]) -> int:
    version = int(doc.get("v", 1))
    if version > STATE_VERSION:
        raise StateVersionError(
            f"state written by a newer marketo-stream (state version {version}, this one reads up to "
            f"{STATE_VERSION}); upgrade marketo-stream"
        )
    return version


def _v1_to_v2(key: str, doc: Mapping[str, Any]) -> Documents:
    """An entity index holding its rows becomes an index and the shards those rows belong in."""
    entity = key.startswith(ENTITY_PREFIX)
    index = entity and "/" not in key
    found: Documents = {key: {**{k: v for k, v in doc.items() if not (entity and k == "rows")}, "v": 2}}
    rows = {text: _untag_null(mark) for text, mark in (doc.get("rows") or {}).items()} if entity else {}
    if not index and entity:
        found[key]["rows"] = rows
    elif rows:
        table = key.removeprefix(ENTITY_PREFIX)
        for text, mark in rows.items():
            shard = found.setdefault(shard_key(table, shard_index(text)), {"v": 2, "rows": {}})
            shard["rows"][text] = mark
    return found


def _untag_null(mark: str) -> str:
    return mark.removeprefix("None") if mark.startswith("None|") else mark


def _v2_to_v3(key: str, doc: Mapping[str, Any]) -> Documents:
    """The effects' inline list changes move to their shards, and the effects name no gone leads yet."""
    found: Documents = {key: {**doc, "v": 3}}
    if key != EFFECTS_KEY:
        return found
    index = found[key]
    index.setdefault("gone_leads", [])
    index.setdefault("parents_changed", {})
    index.setdefault("parents_gone", {})
    for date, guid, list_id, lead_id, added in index.pop("list_changes", None) or ():
        shard = found.setdefault(effects_shard_key(list_change_shard(list_id, lead_id)), {"v": 3, "rows": {}})
        shard["rows"][f"{list_id},{lead_id}"] = [date, guid, added]
    return found


def _adds_only(version: int) -> Callable[[str, Mapping[str, Any]], Documents]:
    """The step to ``version`` where that version only adds a key or a field (see the history above): every
    document stays as it is, with its new version."""

    def step(key: str, doc: Mapping[str, Any]) -> Documents:
        return {key: {**doc, "v": version}}

    return step


MIGRATIONS: dict[int, Callable[[str, Mapping[str, Any]], Documents]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _adds_only(4),  # schemas
    4: _adds_only(5),  # activities.tail
    5: _adds_only(6),  # an entity index's read_at
}
"""``MIGRATIONS[n]`` turns one version-``n`` document into the version-``n + 1`` documents it stands for."""


def upgrade_states(states: Mapping[str, Mapping[str, Any] | None]) -> Documents:
    """Every document in the current version. Shards that a migration derives from an index are merged into
    the shards stored beside it (the index's rows were written first, so a stored shard wins)."""
    out: Documents = {}
    derived: Documents = {}
    for key, doc in states.items():
        if doc is None:
            continue
        step: Documents = {key: dict(doc)}
        version = version_of(doc)
        while version < STATE_VERSION:
            step = {found: new for k, d in step.items() for found, new in MIGRATIONS[version](k, d).items()}
            version += 1
        out[key] = step.pop(key)
        derived.update(step)
    for key, doc in derived.items():
        stored = out.get(key)
        out[key] = doc if stored is None else {**doc, "rows": {**doc["rows"], **stored.get("rows", {})}}
    return out


def upgrade(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One document that no migration splits (anything but an entity index) in the current version."""
    return upgrade_states({"": doc})[""]
