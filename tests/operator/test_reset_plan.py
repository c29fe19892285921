"""What a reset changes, as pure functions of the state: enough for the next sync to really extract the table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketo_stream.intervals import Interval, IntervalSet
from marketo_stream.operator import UnknownTableError, plan_reset, resolve_table
from marketo_stream.sync_state import ActivityState, ExportProgress

TYPES = [{"id": 1, "name": "Visit Webpage"}, {"id": 2, "name": "Fill Out Form"}]
WEEK = Interval(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC))
NEXT = Interval(WEEK.end, datetime(2026, 10, 15, tzinfo=UTC))


def activity_states() -> dict[str, dict[str, object]]:
    state = ActivityState(
        done={1: IntervalSet([WEEK]), 2: IntervalSet([WEEK])},
        exports={"activities:next": ExportProgress(NEXT, (1, 2), "job-1", 40)},
        rows_per_day=12.0,
    )
    return {"activities": state.to_json(), "activities.recent": {"v": 1, "guids": {"g": 1}}, "lead": {"v": 1}}


def test_resetting_an_activity_table_forgets_its_type_its_in_flight_exports_and_the_lookback_guids() -> None:
    plan = plan_reset(resolve_table("activity_visit_webpage", TYPES), activity_states())

    after = ActivityState.from_json(plan.changes["activities"])
    assert after.done == {2: IntervalSet([WEEK])}
    assert after.exports == {}, "resumed, the export would skip the rows committed before the reset"
    assert after.rows_per_day == 12.0
    assert plan.changes["activities.recent"] is None
    assert "lead" not in plan.changes


def test_tables_reread_only_on_a_signal_reset_that_signal_too() -> None:
    states = {key: {"v": 1} for key in ("entity.program", "entity.program_membership", "lead", "deleted_leads")}

    members = plan_reset(resolve_table("program_membership"), states)
    roles = plan_reset(resolve_table("opportunity_membership"), states)

    assert members.changes == {"entity.program_membership": None, "entity.program": None}
    assert roles.changes == {"lead": None, "deleted_leads": None}
    assert any("first run" in note for note in roles.notes)


def test_a_table_without_state_plans_no_change_and_unknown_names_are_refused() -> None:
    assert plan_reset(resolve_table("campaign"), {"lead": {"v": 1}}).empty
    assert plan_reset(resolve_table("custom_object_car_c"), {"windows.custom_object_car_c": {"done": []}}).changes == {
        "windows.custom_object_car_c": None
    }
    with pytest.raises(UnknownTableError, match="activity tables are"):
        resolve_table("activity_nothing", TYPES)
    with pytest.raises(UnknownTableError, match="tables are"):
        resolve_table("leads")
