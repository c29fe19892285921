"""What a sync spends of Marketo's scarce resources: no export job for a window known to be empty, a quiet hour in
few calls, and the summary telling each table's cost. Whole syncs against the sandbox over HTTP into the in-memory
sink; the calls and jobs are read from the sandbox's own request log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from marketo_stream.intervals import parse_instant
from marketo_stream.report import SyncSummary
from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync import entity_readers
from marketo_stream.sync.runner import SyncRunner
from tests.fast import UNTHROTTLED_WINDOW_SECONDS

TINY: dict[str, Any] = {"scale": "tiny", "rate_limit_calls": 100_000}
HISTORY_DAYS = 30
"""The tiny world's history: its first lead and activity are this many days before its start."""


def settings_for(sandbox: Sandbox, work: Path) -> Settings:
    """No start date: history reaches back to Marketo's 25-month retention, as on a user's first sync."""
    return load_settings(
        None,
        {
            "MARKETO_STREAM_BASE_URL": sandbox.url,
            "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
            "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
            "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
            "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": UNTHROTTLED_WINDOW_SECONDS,
            "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
        },
    )


def run(settings: Settings, sink: MemorySink) -> SyncSummary:
    runner = SyncRunner(settings, sink=sink)
    try:
        return runner.run_once()
    finally:
        runner.close()


def requests_since(sandbox: Sandbox, seq: int, path: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{sandbox.url}/_sandbox/requests", params={"since": seq, "path": path}, timeout=30)
    found: list[dict[str, Any]] = answer.json()["requests"]
    return found


def last_seq(sandbox: Sandbox) -> int:
    entries = requests_since(sandbox, 0, "")
    return max((int(e["seq"]) for e in entries), default=0)


def next_run(sink: MemorySink) -> MemorySink:
    return MemorySink(states=sink.states(), published={t.topic_suffix: t.value_schema for t in sink.tables.values()})


def test_a_first_sync_of_a_world_whose_data_starts_recently_runs_no_export_for_the_empty_windows(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    started = parse_instant(requests.get(f"{sandbox.url}/_sandbox/clock", timeout=30).json()["now"])
    data_starts = started - timedelta(days=HISTORY_DAYS)
    sink = MemorySink()

    summary = run(settings_for(sandbox, tmp_path), sink)

    creates = requests_since(sandbox, 0, r"/export/create\.json$")
    windows = [
        next(iter(c["body"]["filter"][f] for f in ("createdAt", "updatedAt") if f in c["body"]["filter"]))
        for c in creates
    ]
    assert windows, "the history is still exported"
    too_old = [w for w in windows if parse_instant(w["endAt"]) < data_starts - timedelta(days=2)]
    assert too_old == [], "no job for a window that ends before the first lead and activity (25 months back)"
    assert len(creates) <= 6, "activities, leads and custom objects: two windows each at most for 30 days"
    assert summary.records["lead"] == len(sink.compacted("lead")) > 0
    empty = [job for kind in ("activities", "leads") for job in _jobs(sandbox, kind) if not job["numberOfRecords"]]
    assert empty == []


def _jobs(sandbox: Sandbox, kind: str) -> list[dict[str, Any]]:
    """The export jobs of the sandbox's client, from Marketo's own job list."""
    identity = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    token = requests.get(f"{sandbox.url}/identity/oauth/token", params=identity, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    answer = requests.get(f"{sandbox.url}/bulk/v1/{kind}/export.json", headers=headers, timeout=30).json()
    jobs: list[dict[str, Any]] = answer["result"]
    return jobs


def test_an_incremental_sync_of_a_quiet_hour_stays_under_fifty_calls(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    run(settings, sink)
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 3600}, timeout=30).raise_for_status()
    before = last_seq(sandbox)

    summary = run(settings, sink := next_run(sink))

    calls = [e for e in requests_since(sandbox, before, "") if not e["path"].startswith("/_sandbox")]
    assert len(calls) < 50
    published = sum(n for t, n in summary.records.items() if t.startswith("activity_"))
    assert published < 100, "a quiet hour"
    exported = requests_since(sandbox, before, r"/bulk/v1/activities/export/create\.json")
    assert bool(exported) == bool(published), "an activity export only for an hour that brought new activities"


def test_a_sync_right_after_another_exports_no_activities_at_all(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Nothing was committed in the minute between: a paging token and one ``activities.json`` call per type group
    tell so, and no export job (nor its calls and minutes) is spent re-reading the lookback."""
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    run(settings, sink)
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 60}, timeout=30).raise_for_status()
    before = last_seq(sandbox)

    summary = run(settings, next_run(sink))

    assert requests_since(sandbox, before, r"/bulk/v1/activities/export/") == []
    assert not any(t.startswith("activity_") for t in summary.records)
    probes = requests_since(sandbox, before, r"/rest/v1/activities\.json$")
    assert 1 <= len(probes) <= 10


def test_the_summary_tells_each_tables_calls_jobs_and_export_bytes(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    before = last_seq(sandbox)

    summary = run(settings_for(sandbox, tmp_path), MemorySink())

    by_table = summary.calls_by_table
    sent = [e for e in requests_since(sandbox, before, "") if not e["path"].startswith("/_sandbox")]
    assert sum(f["calls"] for f in by_table.values()) == sum(summary.api_calls.values()) == len(sent)
    creates = requests_since(sandbox, before, r"/export/create\.json$")
    assert sum(f["export_jobs"] for f in by_table.values()) == len(creates)
    assert by_table["activities"]["export_jobs"] >= 1 and by_table["activities"]["bulk_bytes"] > 0
    assert by_table["lead"]["export_jobs"] >= 1
    assert by_table["company"]["calls"] >= 1 and by_table["company"]["export_jobs"] == 0
    rendered = summary.render()
    assert "Marketo cost per table" in rendered
    assert all(table in rendered for table in by_table)
    assert summary.as_json()["calls_by_table"] == by_table


def test_blocked_tables_cost_no_calls(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    """A blocked custom object is not described and a blocked table no other reads from is not listed."""
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    settings = settings.model_copy(
        update={"block": settings.block.model_copy(update={"groups": ["custom_objects"], "tables": ["form"]})}
    )
    before = last_seq(sandbox)

    summary = run(settings, MemorySink())

    assert requests_since(sandbox, before, r"/rest/asset/v1/forms\.json") == []
    assert requests_since(sandbox, before, r"/rest/v1/customobjects/[^/]+/describe\.json") == []
    assert requests_since(sandbox, before, r"/bulk/v1/customobjects/") == []
    assert not any(table.startswith("custom_object") or table == "form" for table in summary.calls_by_table)
    assert requests_since(sandbox, before, r"/rest/asset/v1/programs\.json"), "the other tables are still read"


def test_companies_and_opportunities_are_read_in_full_at_most_every_full_reread_minutes(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marketo gives no change feed for companies (nor opportunities): seeing a change means asking for every known
    id again, a call per 300. Between full reads a run asks only from the batch holding the highest id it knows, so
    a new company arrives at once and a change to one of the lower known ids waits for the next full read. (Batches
    of 3 ids here, so that the tiny world's companies span several.)"""
    monkeypatch.setattr(entity_readers, "MAX_BATCH", 3)
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    run(settings, sink)
    first = company_updates(sandbox)
    assert published_updates(sink) == first

    before = last_seq(sandbox)
    run(with_full_reread(settings, minutes=200 * 1440), sink := next_run(sink))
    assert not sink.records("opportunity_membership"), "no role changed"
    assert requests_since(sandbox, before, r"/rest/v1/opportunities\.json") == [], "so no opportunity is asked for"
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 100 * 86_400}, timeout=30)
    later = company_updates(sandbox)
    last_batch = (max(first) - 1) // 3 * 3 + 1
    assert any(later[cid] != at for cid, at in first.items() if cid < last_batch), "lower known ids changed"

    before = last_seq(sandbox)
    sink = next_run(sink)
    run(with_full_reread(settings, minutes=200 * 1440), sink)
    asked = {int(i) for e in requests_since(sandbox, before, r"/rest/v1/companies\.json") for i in asked_ids(e)}
    assert min(asked) == last_batch, "only from the batch holding the highest known id"
    seen = {**first, **published_updates(sink)}
    assert seen == {cid: (later if cid >= last_batch else first)[cid] for cid in later}, (
        "changes from the batch holding the highest known id on, and nothing else"
    )

    sink = next_run(sink)
    run(with_full_reread(settings, minutes=0), sink)
    published = published_updates(sink)
    assert {**seen, **published} == later, "the full read publishes every change"
    assert set(published) == {cid for cid in later if cid < last_batch and later[cid] != first[cid]}, "once"


def asked_ids(entry: dict[str, Any]) -> list[str]:
    """The ids one logged request filtered on."""
    query = entry.get("query") or {}
    values = query.get("filterValues", "")
    return [v for v in (values[0] if isinstance(values, list) else values).split(",") if v]


def company_updates(sandbox: Sandbox) -> dict[int, datetime]:
    """Each company's ``updatedAt`` in Marketo now."""
    answer = requests.get(f"{sandbox.url}/_sandbox/truth/company", timeout=30).json()
    return {int(r["id"]): parse_instant(r["updatedAt"]) for r in answer["records"]}


def published_updates(sink: MemorySink) -> dict[int, datetime]:
    """Each company's ``updated_at`` published in this run (Avro timestamp-millis)."""
    return {
        int(value["id"]): datetime.fromtimestamp(value["updated_at"] / 1000, UTC)
        for value in sink.compacted("company").values()
    }


def with_full_reread(settings: Settings, *, minutes: float) -> Settings:
    return settings.model_copy(update={"sync": settings.sync.model_copy(update={"full_reread_minutes": minutes})})


def test_a_custom_objects_changes_wait_for_full_reread_minutes_then_come_in_one_export(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Marketo gives no cheap bound on custom object updates, so each run's ``updatedAt`` window was an export job,
    empty or not. A run sooner than ``sync.full_reread_minutes`` after the last window leaves the span to a later
    run, whose one export reads all of it: nothing skipped."""
    sandbox = sandbox_factory(**TINY)
    settings = with_full_reread(settings_for(sandbox, tmp_path), minutes=60)
    sink = MemorySink()
    run(settings, sink)
    seen = car_updates(sink)
    assert seen == truth_car_updates(sandbox)

    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 30 * 60}, timeout=30)
    before = last_seq(sandbox)
    run(settings, sink := next_run(sink))
    assert requests_since(sandbox, before, r"/bulk/v1/customobjects/") == [], "30 minutes after the last window"

    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": 10 * 86_400}, timeout=30)
    truth = truth_car_updates(sandbox)
    assert any(truth.get(guid) != at for guid, at in seen.items()) or set(truth) - set(seen), "cars changed"
    before = last_seq(sandbox)
    run(settings, sink := next_run(sink))
    assert len(requests_since(sandbox, before, r"/bulk/v1/customobjects/car_c/export/create\.json")) == 1
    assert {**seen, **car_updates(sink)} == truth


def car_updates(sink: MemorySink) -> dict[str, datetime]:
    """Each ``car_c`` record's ``updated_at`` published in this run (Avro timestamp-millis), by GUID."""
    return {
        str(value["marketo_guid"]): datetime.fromtimestamp(value["updated_at"] / 1000, UTC)
        for value in sink.compacted("custom_object_car_c").values()
    }


def truth_car_updates(sandbox: Sandbox) -> dict[str, datetime]:
    answer = requests.get(f"{sandbox.url}/_sandbox/truth/custom_object_car_c", timeout=30).json()
    return {str(r["marketoGUID"]): parse_instant(r["updatedAt"]) for r in answer["records"]}
