from datetime import UTC, datetime, timedelta

import pytest

from marketo_stream.intervals import Interval, IntervalSet
from marketo_stream.sync_state import (
    STATE_VERSION,
    ActivityState,
    EntityState,
    ExportProgress,
    LeadState,
    RecentActivities,
    StateVersionError,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_activity_state_round_trips_through_json() -> None:
    state = ActivityState(
        done={1: IntervalSet([Interval(T0, T0 + timedelta(days=3))])},
        exports={"w": ExportProgress(Interval(T0, T0 + timedelta(days=1)), (1, 6), "exp-1", 5000)},
        rows_per_day=12.5,
    )
    again = ActivityState.from_json(state.to_json())
    assert again.to_json() == state.to_json()


def test_a_group_has_done_only_what_every_member_has_done() -> None:
    state = ActivityState(
        done={
            1: IntervalSet([Interval(T0, T0 + timedelta(days=10))]),
            6: IntervalSet([Interval(T0 + timedelta(days=5), T0 + timedelta(days=20))]),
        }
    )
    assert list(state.done_for([1, 6])) == [Interval(T0 + timedelta(days=5), T0 + timedelta(days=10))]
    assert list(state.done_for([1, 99])) == []


def test_state_from_a_newer_version_is_refused_not_misread() -> None:
    with pytest.raises(StateVersionError, match="upgrade marketo-stream"):
        LeadState.from_json({"v": STATE_VERSION + 1, "done": []})


def test_missing_state_means_a_first_run() -> None:
    assert not LeadState.from_json(None).initial_load_complete
    assert RecentActivities.from_json(None).guids == {}
    assert EntityState.load({}, "program").rows == {}


def test_entity_fingerprints_are_spread_over_shards_and_only_changed_shards_are_rewritten() -> None:
    state = EntityState()
    for n in range(1000):
        state.put(f"[{n}]", "f")
    docs = state.documents("company")
    assert docs["entity.company"] == {"v": STATE_VERSION, "complete": False}
    shards = [key for key in docs if key.startswith("entity.company/")]
    assert len(shards) > 32, "rows spread over many records, none near Kafka's message limit"
    again = EntityState.load(docs, "company")
    assert again.rows == state.rows
    again.put("[5]", "g")
    changed = again.documents("company")
    assert len(changed) == 2, "the index and the one shard that changed"


def test_a_version_one_entity_document_is_read_and_split_on_its_next_write() -> None:
    legacy = {"entity.list": {"v": 1, "rows": {"[1]": "a", "[2]": "b"}, "complete": True}}
    state = EntityState.load(legacy, "list")
    assert dict(state.rows) == {"[1]": "a", "[2]": "b"} and state.complete
    docs = state.documents("list")
    assert "rows" not in docs["entity.list"] and len(docs) > 1
