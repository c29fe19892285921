"""Every earlier state version is read through ``state_migrations``: by rule, and as a real sync left it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from marketo_stream.activity_effects import ADD_TO_LIST, Effects
from marketo_stream.schema import fixed
from marketo_stream.state_migrations import (
    EFFECTS_SHARDS,
    STATE_VERSION,
    StateVersionError,
    effects_shard_key,
    shard_key,
    upgrade_states,
)
from marketo_stream.sync_state import (
    ACTIVITIES_KEY,
    CALLS_KEY,
    DELETED_LEADS_KEY,
    TAIL_KEY,
    EntityState,
    RecentCalls,
    SyncState,
    TailState,
    WindowsDone,
    effects_documents,
    entity_key,
    load_effects,
    shard_index,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "state_v1.jsonl"


TABLES_SINCE_VERSION_ONE = frozenset({"email"})
"""Fixed tables added to the catalog after the fixture's release: a first sync after the upgrade lists them whole."""


def republished_after_upgrade(published: dict[str, int]) -> set[str]:
    """The tables a first sync after upgrading from the fixture's release publishes beyond what that release
    published: those with a currency column, and the tables that release did not have. Currency became an exact
    decimal since, whose text (and so each row's fingerprint) differs from the old float's, so each of their rows
    is published once more, which a compacted topic absorbs."""
    with_decimals = {
        path.stem for path in fixed.schemas_dir().glob("*.avsc") if '"decimal"' in path.read_text(encoding="utf-8")
    }
    return set(published) & (with_decimals | TABLES_SINCE_VERSION_ONE)


def fixture_states() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The fixture's description and its compacted view: every key's last committed state (as the sink reads
    it, the envelope removed)."""
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    states: dict[str, dict[str, Any]] = {}
    for line in lines[1:]:
        record = json.loads(line)
        if record["value"] is None:
            states.pop(record["key"], None)
        else:
            assert record["value"]["format"] == 1
            states[record["key"]] = record["value"]["state"]
    return head, states


def test_a_version_one_index_holding_its_rows_becomes_an_index_and_shards() -> None:
    legacy = {"entity.list": {"v": 1, "rows": {"[1]": "a", "[2]": "b"}, "complete": True}}
    current = upgrade_states(legacy)
    assert current["entity.list"] == {"v": STATE_VERSION, "complete": True}
    rows = {text: mark for key, doc in current.items() if key != "entity.list" for text, mark in doc["rows"].items()}
    assert rows == {"[1]": "a", "[2]": "b"}
    assert shard_key("list", shard_index("[1]")) in current


def test_a_stored_shard_wins_over_the_rows_an_older_index_still_holds() -> None:
    shard = shard_key("list", shard_index("[1]"))
    stored = {"entity.list": {"v": 1, "rows": {"[1]": "old"}}, shard: {"v": 1, "rows": {"[1]": "new"}}}
    assert upgrade_states(stored)[shard]["rows"] == {"[1]": "new"}


def test_documents_without_a_version_are_version_one() -> None:
    current = upgrade_states({"windows.custom_object_car_c": {"done": []}, "effects": {"merged_away": [3]}})
    assert {doc["v"] for doc in current.values()} == {STATE_VERSION}
    assert current["effects"]["merged_away"] == [3]


def test_a_newer_version_is_refused() -> None:
    with pytest.raises(StateVersionError, match="upgrade marketo-stream"):
        upgrade_states({"run": {"v": STATE_VERSION + 1}})


def test_legacy_rows_are_written_to_their_shards_at_the_next_commit() -> None:
    state = EntityState.load({"entity.list": {"v": 1, "rows": {"[1]": "a"}, "complete": True}}, "list")
    docs = state.documents("list")
    assert docs[shard_key("list", shard_index("[1]"))]["rows"] == {"[1]": "a"}


def test_the_state_a_version_one_sync_left_reads_as_typed_state() -> None:
    _, states = fixture_states()
    state = SyncState.load(states)
    assert state.leads.initial_load_complete
    assert state.deleted_leads.at is not None and state.run.at is not None
    assert state.deleted_leads.at <= state.run.at
    assert state.activities.done, "the activity windows finished by the first sync"
    assert not state.activities.exports, "no export left in flight"
    assert state.recent.guids
    for table in ("program", "list", "company", "list_membership", "program_membership", "activity_type"):
        entity = state.entity(table)
        stored = sum(len(doc["rows"]) for key, doc in states.items() if key.startswith(entity_key(table) + "/"))
        assert entity.complete and len(entity.rows) == stored > 0, table
        assert not entity.dirty, "sharded version-one tables need no rewrite"
    assert len(state.windows("custom_object_car_c").done), "custom object windows"


def test_the_typed_state_encodes_to_current_documents_that_read_back_the_same() -> None:
    _, states = fixture_states()
    state = SyncState.load(states)
    docs = {
        **state.activities.documents(),
        **state.recent.documents(),
        **state.leads.documents(),
        **state.deleted_leads.deleted_leads_documents(),
        **state.run.run_documents(),
        **effects_documents(state.effects),
        **WindowsDone(state.windows("custom_object_car_c").done).documents("custom_object_car_c"),
    }
    program = state.entity("program")
    program.dirty.update(range(64))
    docs.update(program.documents("program"))
    assert {doc["v"] for doc in docs.values() if doc} == {STATE_VERSION}
    again = SyncState.load(docs)
    assert again.activities.to_json() == state.activities.to_json()
    assert again.leads.to_json() == state.leads.to_json()
    assert again.deleted_leads == state.deleted_leads and again.run == state.run
    assert again.effects.to_json() == state.effects.to_json()
    assert dict(again.entity("program").rows) == dict(program.rows)
    assert upgrade_states(states)[ACTIVITIES_KEY] == {**states[ACTIVITIES_KEY], "v": STATE_VERSION}
    assert DELETED_LEADS_KEY in docs


def test_a_fingerprint_tagged_with_a_null_loses_the_none_tag() -> None:
    shard = shard_key("opportunity", 3)
    current = upgrade_states({shard: {"v": 1, "rows": {"[1]": "None|ab", "[2]": "x9|cd", "[3]": "ef"}}})
    assert current[shard]["rows"] == {"[1]": "|ab", "[2]": "x9|cd", "[3]": "ef"}


V2_EFFECTS = {
    "v": 2,
    "leads_to_refresh": [5],
    "merged_away": [],
    "list_changes": [["2026-10-01T00:00:00Z", "g1", 77, 1, True], ["2026-10-02T00:00:00Z", "g2", 78, 2, False]],
    "opportunity_leads": [],
    "programs_to_refresh": [9],
}


def test_version_two_effects_move_their_list_changes_to_shards_and_name_no_gone_leads() -> None:
    current = upgrade_states({"effects": V2_EFFECTS})
    assert current["effects"] == {
        "v": STATE_VERSION,
        "leads_to_refresh": [5],
        "merged_away": [],
        "opportunity_leads": [],
        "programs_to_refresh": [9],
        "gone_leads": [],
        "parents_changed": {},
        "parents_gone": {},
    }
    shards = {key: doc for key, doc in current.items() if key.startswith("effects/")}
    assert sorted(row for doc in shards.values() for row in doc["rows"]) == ["77,1", "78,2"]
    assert {doc["v"] for doc in shards.values()} == {STATE_VERSION}


def test_version_two_effects_read_the_same_and_are_rewritten_as_shards_on_the_next_commit() -> None:
    effects = load_effects({"effects": V2_EFFECTS})
    assert effects == Effects.from_json(V2_EFFECTS)
    docs = effects_documents(effects)
    assert "list_changes" not in docs["effects"]  # type: ignore[operator]
    assert load_effects(docs) == effects


def test_effects_write_only_the_list_change_shards_that_changed_and_drop_emptied_ones() -> None:
    effects = Effects()
    for lead in range(200):
        effects.absorb_activity(ADD_TO_LIST, lead, 7, "2026-10-01T00:00:00Z", f"g{lead}", None)
    effects.gone_leads.add(3)
    first = effects_documents(effects)
    assert len(first) == 1 + EFFECTS_SHARDS and load_effects(first) == effects
    effects.absorb_activity(ADD_TO_LIST, 1, 8, "2026-10-02T00:00:00Z", "h", None)
    assert len(effects_documents(effects)) == 2, "the index and the one shard that changed"
    effects.clear()
    emptied = effects_documents(effects)
    assert [key for key, doc in emptied.items() if doc is None] == [effects_shard_key(n) for n in range(EFFECTS_SHARDS)]
    stored = {key: doc for key, doc in {**first, **emptied}.items() if doc is not None}
    assert load_effects(stored).is_empty()


def test_state_from_before_version_three_holds_no_call_history_and_the_history_reads_back() -> None:
    _, states = fixture_states()
    assert SyncState.load(states).calls == RecentCalls()
    calls = RecentCalls(1_800_000_000.5, [1_799_999_990.25], ended=False)
    docs = calls.documents()
    assert docs[CALLS_KEY]["v"] == STATE_VERSION  # type: ignore[index]
    assert SyncState.load(docs).calls == calls


def test_a_version_4_state_upgrades_unchanged_and_starts_the_tail_from_the_bulk_windows() -> None:
    v4 = {
        ACTIVITIES_KEY: {"v": 4, "done": {"6": [["2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"]]}, "exports": {}},
        "activities.recent": {"v": 4, "guids": {"123": 1793000000}},
    }
    current = upgrade_states(v4)
    assert current == {key: {**doc, "v": STATE_VERSION} for key, doc in v4.items()} and STATE_VERSION >= 5
    state = SyncState.load(v4)
    assert state.tail.tokens == {} and state.tail.end is None, "no tail yet: it opens its tokens at the bulk end"
    assert state.recent.guids == {"123": 1793000000}


def test_the_tail_state_keeps_its_tokens_only_while_the_bulk_windows_end_where_it_left_them() -> None:
    end = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    tail = TailState({"1,2": "TOKEN", TailState.DELETED: "DELETED"}, end)
    stored = SyncState.load(tail.documents()).tail
    assert stored == tail and tail.documents()[TAIL_KEY]["v"] == STATE_VERSION  # type: ignore[index]
    assert stored.tokens_for(end.replace(microsecond=500)) == tail.tokens, "to the second, as stored"
    assert stored.tokens_for(datetime(2026, 11, 2, 16, 0, tzinfo=UTC)) == {}, "a bulk pass moved the end"


def test_a_version_5_entity_index_upgrades_unchanged_and_its_table_is_read_in_full_next() -> None:
    v5 = {"entity.company": {"v": 5, "complete": True}, "entity.company/03": {"v": 5, "rows": {"[7]": "f"}}}
    current = upgrade_states(v5)
    assert current == {key: {**doc, "v": STATE_VERSION} for key, doc in v5.items()} and STATE_VERSION == 6
    state = EntityState.load(v5, "company")
    assert state.complete and state.read_at is None, "never read in full as far as it knows: due at once"


def test_when_a_table_was_last_read_in_full_is_kept_to_the_second() -> None:
    state = EntityState(complete=True, read_at=datetime(2026, 11, 2, 15, 0, 7, 500_000, tzinfo=UTC))
    docs = state.documents("company")
    assert docs["entity.company"] == {"v": STATE_VERSION, "complete": True, "read_at": "2026-11-02T15:00:07Z"}
    assert EntityState.load(docs, "company").read_at == datetime(2026, 11, 2, 15, 0, 7, tzinfo=UTC)
