"""The exporter against the sandbox: verified files, shared queue, failures, stuck jobs, vanished files, quota."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from marketo_stream.bulk.csvfile import read_rows
from marketo_stream.bulk.errors import ExportFailed
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.marketo.errors import ExportQuotaExceeded, UnsupportedFilter
from tests.bulk.helpers import Caller, SettlingClock, Started, activity_window, calls, creates, make_exporter, weeks


def test_exports_are_yielded_verified_with_their_ids_reported_first(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    caller = Caller()
    september = {"createdAt": {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-30T23:59:59Z"}}
    requests = [*weeks(3), ExportRequest("leads", ("id", "email"), september, "leads:2026-09")]
    done = caller.run(make_exporter(sandbox, clock, tmp_path), requests)

    assert sorted(c.request.label for c in done) == sorted(r.label for r in requests)
    for completed in done:
        assert caller.known[completed.request.label] == completed.export_id
        status = admin.requests(f"{completed.export_id}/status")[-1]
        assert status["code"] is None
        rows = list(read_rows(completed.path))
        assert len(rows) == completed.number_of_records > 0
        assert completed.file_size == completed.path.stat().st_size
    assert creates(admin) == 4
    assert not list(tmp_path.glob("*.part"))


def test_checksums_match_the_sandboxs_files(started: Started, tmp_path: Path) -> None:
    sandbox, _, clock = started()
    exporter = make_exporter(sandbox, clock, tmp_path)
    (completed,) = list(exporter.run([activity_window(1)]))
    job = exporter.repository.status(completed.request, completed.export_id)
    assert hashlib.sha256(completed.path.read_bytes()).hexdigest() == job.file_checksum


def test_both_processing_slots_are_used_but_never_more_than_two_of_our_jobs(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started(job_duration_seconds=600)
    in_flight_at_create: list[int] = []

    def note(request: ExportRequest, export_id: str) -> None:
        jobs = admin.call("GET", "bulk")["jobs"]
        in_flight_at_create.append(jobs.get("Queued", 0) + jobs.get("Processing", 0))

    exporter = make_exporter(sandbox, clock, tmp_path, poll_interval_seconds=60)
    done = list(exporter.run(weeks(4), on_export_id=note))
    assert len(done) == 4
    assert in_flight_at_create[:2] == [0, 1], "the second job starts while the first processes"
    assert max(in_flight_at_create) <= 1, "a third is created only once one of two has finished"


def test_a_full_queue_is_waited_out_without_creating_another_job(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    admin.fault(r"/enqueue\.json", code="1029", message="Too many jobs in queue", times=2)
    done = list(make_exporter(sandbox, clock, tmp_path).run([activity_window(1)]))
    assert len(done) == 1
    assert [e["code"] for e in calls(admin, "enqueue")] == ["1029", "1029", None]
    assert creates(admin) == 1
    assert [round(s) for s in clock.slept if s > 30] == [60, 120], "waits grow: 1 minute, then 2"


def test_the_real_queue_limit_with_other_integrations_jobs_is_waited_out(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started(other_queued_jobs=10)
    freed: list[bool] = []

    def free_the_queue(seconds: float) -> None:
        if not freed:
            admin.call("POST", "bulk", {"other_queued_jobs": 0})
            freed.append(True)

    exporter = make_exporter(sandbox, clock, tmp_path)
    original_sleep = clock.sleep
    clock.sleep = lambda seconds: (free_the_queue(seconds), original_sleep(seconds))[1]  # type: ignore[method-assign]
    assert len(list(exporter.run([activity_window(1)]))) == 1
    assert [e["code"] for e in calls(admin, "enqueue")] == ["1029", None]


def test_a_failed_job_is_recreated_then_its_window_split_in_two(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    admin.fault(r"activities/export/create\.json", job="fail", message="Export failed: disk full", times=2)
    request = activity_window(1, days=4)
    done = list(make_exporter(sandbox, clock, tmp_path).run([request]))

    assert sorted(c.request.label for c in done) == [f"{request.label}/1", f"{request.label}/2"]
    assert all(c.request.part_of == request.label for c in done)
    windows = sorted(
        c.request.filter["createdAt"]["startAt"] + ".." + c.request.filter["createdAt"]["endAt"] for c in done
    )
    assert windows == ["2026-10-01T00:00:00Z..2026-10-02T23:59:59Z", "2026-10-03T00:00:00Z..2026-10-04T23:59:59Z"]
    assert creates(admin) == 4, "original, one retry, two halves"


def test_a_request_that_keeps_failing_and_cannot_split_raises_export_failed(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    admin.fault(r"leads/export/create\.json", job="fail", message="Export failed: boom", times=None)
    request = ExportRequest("leads", ("id",), {"staticListId": 1}, "leads:list1")
    with pytest.raises(ExportFailed) as failed:
        list(make_exporter(sandbox, clock, tmp_path).run([request]))
    assert failed.value.label == "leads:list1" and "boom" in failed.value.reason
    assert creates(admin) == 2


def test_a_stuck_job_is_cancelled_and_recreated(started: Started, tmp_path: Path) -> None:
    sandbox, admin, _ = started(other_processing_jobs=2)  # other integrations hold both slots
    clock = SettlingClock(admin)
    ids: list[str] = []

    def note(request: ExportRequest, export_id: str) -> None:
        ids.append(export_id)
        if len(ids) == 2:
            admin.call("POST", "bulk", {"other_processing_jobs": 0})

    exporter = make_exporter(sandbox, clock, tmp_path, job_timeout_seconds=1800, poll_interval_seconds=300)
    (completed,) = list(exporter.run([activity_window(1)], on_export_id=note))
    assert completed.export_id == ids[1]
    assert [e["path"] for e in calls(admin, "cancel")] == [f"/bulk/v1/activities/export/{ids[0]}/cancel.json"]


def test_a_completed_job_whose_file_is_gone_is_recreated(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    admin.fault(r"/file\.json", job="file_gone", times=1)
    caller = Caller()
    (completed,) = caller.run(make_exporter(sandbox, clock, tmp_path), [activity_window(1)])
    assert [e["status"] for e in calls(admin, "file")] == [404, 200]
    assert creates(admin) == 2
    assert caller.known[completed.request.label] == completed.export_id


def test_a_job_that_cannot_fit_in_todays_export_volume_is_not_started(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    exporter = make_exporter(sandbox, clock, tmp_path, daily_export_mb=0.08, max_in_flight=1)
    done = []
    with pytest.raises(ExportQuotaExceeded) as refused:
        for completed in exporter.run(weeks(3)):
            done.append(completed)
    assert len(done) == 1 and done[0].file_size > 40_000
    assert "would not fit" in refused.value.message
    assert creates(admin) == 1


def test_program_member_and_custom_object_exports_use_their_own_endpoints(started: Started, tmp_path: Path) -> None:
    sandbox, admin, clock = started()
    program_id = admin.call("GET", "truth/program")["records"][0]["id"]
    september = {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-30T23:59:59Z"}
    requests = [
        ExportRequest("program_members", ("leadId", "statusName"), {"programIds": [program_id]}, "members"),
        ExportRequest("custom_object", ("marketoGUID", "vin"), {"updatedAt": september}, "cars", object_name="car_c"),
    ]
    done = {c.request.label: c for c in make_exporter(sandbox, clock, tmp_path).run(requests)}
    members = list(read_rows(done["members"].path))
    assert members and list(members[0]) == ["programId", "leadId", "statusName"], "programIds prepends programId"
    assert all(row["vin"] for row in read_rows(done["cars"].path))
    assert len(calls(admin, r"/program/members/export/create\.json")) == 1
    assert len(calls(admin, r"/customobjects/car_c/export/create\.json")) == 1


def test_an_unsupported_filter_is_raised_for_the_caller_to_fall_back(started: Started, tmp_path: Path) -> None:
    sandbox, _, clock = started(lead_updated_at_filter=False)
    september = {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-09-30T23:59:59Z"}
    request = ExportRequest("leads", ("id",), {"updatedAt": september}, "leads:updated")
    with pytest.raises(UnsupportedFilter) as refused:
        list(make_exporter(sandbox, clock, tmp_path).run([request]))
    assert refused.value.code == "1035"


def test_files_exported_earlier_today_count_against_the_quota_of_a_new_exporter(
    started: Started, tmp_path: Path
) -> None:
    sandbox, admin, clock = started()
    (first,) = list(make_exporter(sandbox, clock, tmp_path).run([activity_window(1)]))
    assert 50_000 < first.file_size < 100_000

    # 100 kB a day: room for what is already used, not for another week of the same size
    fresh = make_exporter(sandbox, clock, tmp_path, daily_export_mb=0.1)
    with pytest.raises(ExportQuotaExceeded) as refused:
        list(fresh.run([activity_window(8)]))
    assert "would not fit" in refused.value.message
    assert creates(admin) == 1
