"""The chaos comparer can fail: a run whose topics differ from the uninterrupted run's by one value, one record
twice, one key missing or one tombstone lost is counted by table and field; fields that differ by design are not."""

from __future__ import annotations

from bench.chaos.compare import (
    EXTRA_RECORD,
    MISSING_KEY,
    MISSING_RECORD,
    UNEXPECTED_KEY,
    compare_tables,
    truth_mismatches,
)
from tests.sync.topics import Published


def lead(lead_id: int, email: str, synced_at: int = 1) -> Published:
    return Published({"id": lead_id}, {"id": lead_id, "email": email, "_synced_at": synced_at})


def activity(guid: str, lead_id: int) -> Published:
    return Published({"marketo_guid": guid}, {"marketo_guid": guid, "lead_id": lead_id, "_synced_at": 5})


REFERENCE = {
    "lead": [lead(1, "a@x"), lead(2, "b@x"), lead(3, "c@x"), Published({"id": 3}, None)],
    "activity_new_lead": [activity("g1", 1), activity("g2", 2)],
}


def test_a_run_equal_but_for_its_sync_times_is_exact() -> None:
    run = {
        "lead": [lead(2, "b@x", 9), lead(1, "old@x", 9), lead(1, "a@x", 9), Published({"id": 3}, None)],
        "activity_new_lead": [activity("g2", 2), activity("g1", 1)],
    }
    assert not compare_tables(REFERENCE, run)


def test_a_broken_run_is_counted_by_table_and_field() -> None:
    run = {
        "lead": [lead(1, "changed@x"), lead(3, "c@x"), lead(4, "d@x")],  # 2 missing, 3 not tombstoned, 4 extra
        "activity_new_lead": [activity("g1", 1), activity("g1", 1)],  # g1 twice, g2 lost
    }
    found = compare_tables(REFERENCE, run)
    assert found.mismatches == {
        ("lead", "email"): 1,
        ("lead", MISSING_KEY): 1,
        ("lead", UNEXPECTED_KEY): 2,
        ("activity_new_lead", EXTRA_RECORD): 1,
        ("activity_new_lead", MISSING_RECORD): 1,
    }
    assert any("'a@x' -> 'changed@x'" in example for example in found.examples)


def test_a_table_the_run_never_published_is_missing_whole() -> None:
    found = compare_tables(REFERENCE, {"lead": REFERENCE["lead"]})
    assert found.mismatches == {("activity_new_lead", MISSING_RECORD): 2}


def test_the_truth_comparers_findings_are_counted_by_table() -> None:
    found = truth_mismatches(
        ["lead:\n  missing (1): ['{\"id\": 7}']", "activity_visit_webpage: 2 activities published more than once"]
    )
    assert found.mismatches == {
        ("lead", "[truth: missing]"): 1,
        ("activity_visit_webpage", "[truth: more than once]"): 1,
    }
