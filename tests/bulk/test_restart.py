"""A new exporter given the export ids the last one reported picks up its jobs where they were: never a second job.

Each test lets a first exporter die at a chosen point (``Crash`` out of a wait, a dropped download, a
spent quota), then runs a new exporter with a new client over the same work directory and the ids its
caller kept, and checks in the sandbox's request log what the second one did.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from marketo_stream.marketo.errors import ExportQuotaExceeded, QuotaExceeded, RetryableError
from marketo_stream.marketo.retry import RetryPolicy
from tests.bulk.helpers import (
    Caller,
    Crash,
    CrashingClock,
    Started,
    activity_window,
    calls,
    creates,
    make_exporter,
    weeks,
)
from tests.marketo.support import SandboxAdmin, SandboxClock

NEXT_DAY_IN_CHICAGO = datetime.fromisoformat("2026-11-03T07:00:00+00:00")
"""The sandbox starts on 2026-11-02 15:00 UTC; Marketo's day turns at 06:00 UTC in November."""


def job_states(admin: SandboxAdmin) -> dict[str, int]:
    jobs: dict[str, int] = admin.call("GET", "bulk")["jobs"]
    return jobs


def test_resumes_a_job_that_was_still_queued(started: Started, tmp_path: Path) -> None:
    sandbox, admin, _ = started(other_processing_jobs=2)  # both slots busy: ours waits in the queue
    caller = Caller()
    with pytest.raises(Crash):
        caller.run(make_exporter(sandbox, CrashingClock(admin), tmp_path), [activity_window(1)])
    assert job_states(admin) == {"Queued": 1}
    first_id = caller.known[activity_window(1).label]

    admin.call("POST", "bulk", {"other_processing_jobs": 0})
    (completed,) = caller.run(make_exporter(sandbox, SandboxClock(admin), tmp_path), [activity_window(1)])
    assert completed.export_id == first_id
    assert creates(admin) == 1 and len(calls(admin, "enqueue")) == 1


def test_resumes_a_job_that_was_processing(started: Started, tmp_path: Path) -> None:
    sandbox, admin, _ = started(job_duration_seconds=600)
    caller = Caller()
    with pytest.raises(Crash):
        caller.run(make_exporter(sandbox, CrashingClock(admin), tmp_path), [activity_window(1)])
    assert job_states(admin) == {"Processing": 1}

    (completed,) = caller.run(make_exporter(sandbox, SandboxClock(admin), tmp_path), [activity_window(1)])
    assert completed.export_id == caller.known[activity_window(1).label]
    assert creates(admin) == 1 and len(calls(admin, "enqueue")) == 1


def crash_halfway_through_the_download(started: Started, tmp_path: Path) -> tuple[Caller, SandboxAdmin, object]:
    sandbox, admin, clock = started()
    admin.fault(r"/file\.json", drop_after_bytes=20_000, times=1)
    caller = Caller()
    impatient = make_exporter(sandbox, clock, tmp_path, retry=RetryPolicy(transient_retries=0))
    with pytest.raises(RetryableError) as dropped:
        caller.run(impatient, [activity_window(1)])
    assert dropped.value.code == "connection"
    return caller, admin, sandbox


def test_resumes_a_download_from_the_byte_it_stopped_at(started: Started, tmp_path: Path) -> None:
    caller, admin, sandbox = crash_halfway_through_the_download(started, tmp_path)
    (part,) = tmp_path.glob("*.part")
    assert part.stat().st_size == 20_000

    exporter = make_exporter(sandbox, SandboxClock(admin), tmp_path)  # type: ignore[arg-type]
    (completed,) = caller.run(exporter, [activity_window(1)])
    assert completed.export_id == caller.known[activity_window(1).label]
    assert creates(admin) == 1, "the same export, not a new one"
    assert [e["status"] for e in calls(admin, "file")] == [200, 206], "the second request asked for a range"
    assert exporter.repository.client.downloaded_bytes == completed.file_size - 20_000
    assert not part.exists()


def test_a_resumed_file_that_fails_its_checksum_is_downloaded_again(started: Started, tmp_path: Path) -> None:
    caller, admin, sandbox = crash_halfway_through_the_download(started, tmp_path)
    (part,) = tmp_path.glob("*.part")
    part.write_bytes(b"X" * part.stat().st_size)  # same length, wrong bytes

    exporter = make_exporter(sandbox, SandboxClock(admin), tmp_path)  # type: ignore[arg-type]
    (completed,) = caller.run(exporter, [activity_window(1)])
    assert [e["status"] for e in calls(admin, "file")] == [200, 206, 200]
    assert exporter.repository.client.downloaded_bytes == 2 * completed.file_size - 20_000
    job = exporter.repository.status(completed.request, completed.export_id)
    assert job.file_checksum is not None
    assert hashlib.sha256(completed.path.read_bytes()).hexdigest() == job.file_checksum


def test_a_spent_export_quota_stops_the_run_and_the_next_day_finishes_the_rest(
    started: Started, tmp_path: Path
) -> None:
    sandbox, admin, clock = started(export_daily_quota_mb=0.05, job_duration_seconds=60)  # quota: a week or so
    caller = Caller()
    with pytest.raises(ExportQuotaExceeded) as spent:
        caller.run(make_exporter(sandbox, clock, tmp_path), weeks(3))
    assert spent.value.code == "1029" and "Export daily quota" in spent.value.message
    assert len(caller.done) == 2, "the jobs already running were finished and handed over"
    assert creates(admin) == 3 and [e["code"] for e in calls(admin, "create")][-1] == "1029"

    admin.set_clock(NEXT_DAY_IN_CHICAGO)
    done = caller.run(make_exporter(sandbox, SandboxClock(admin), tmp_path), weeks(3))
    assert sorted(c.request.label for c in done) == sorted(r.label for r in weeks(3))
    assert len([e for e in calls(admin, "create") if e["code"] is None]) == 3


def test_a_job_created_but_refused_a_place_in_the_queue_is_enqueued_the_next_day(
    started: Started, tmp_path: Path
) -> None:
    sandbox, admin, clock = started()
    admin.fault(r"/enqueue\.json", code="1029", message="Export daily quota 500MB exceeded.", after=2, times=1)
    caller = Caller()
    with pytest.raises(ExportQuotaExceeded):
        caller.run(make_exporter(sandbox, clock, tmp_path), weeks(3))
    refused_id = caller.known[weeks(3)[2].label]
    assert len(caller.done) == 2

    admin.set_clock(NEXT_DAY_IN_CHICAGO)
    done = caller.run(make_exporter(sandbox, SandboxClock(admin), tmp_path), weeks(3))
    assert [c.export_id for c in done if c.request.label == weeks(3)[2].label] == [refused_id]
    assert creates(admin) == 3


def test_the_daily_call_quota_stops_the_run_and_the_next_day_resumes_without_new_jobs(
    started: Started, tmp_path: Path
) -> None:
    sandbox, admin, clock = started(daily_quota=10)
    caller = Caller()
    with pytest.raises(QuotaExceeded) as spent:
        caller.run(make_exporter(sandbox, clock, tmp_path), weeks(3))
    assert spent.value.code == "607" and spent.value.request_id
    created_before = creates(admin)

    admin.set_clock(NEXT_DAY_IN_CHICAGO)
    done = caller.run(make_exporter(sandbox, SandboxClock(admin), tmp_path), weeks(3))
    assert sorted(c.request.label for c in done) == sorted(r.label for r in weeks(3))
    created = [e for e in calls(admin, "create") if e["code"] is None]
    assert len(created) == 3, f"{created_before} before the stop; the rest after, none twice"


def test_our_jobs_from_a_run_that_lost_their_ids_still_count_against_our_slots(
    started: Started, tmp_path: Path
) -> None:
    sandbox, admin, _ = started(job_duration_seconds=600)
    with pytest.raises(Crash):
        list(make_exporter(sandbox, CrashingClock(admin), tmp_path).run([activity_window(1)]))  # ids not kept

    later = make_exporter(sandbox, SandboxClock(admin), tmp_path, max_in_flight=1, poll_interval_seconds=60)
    (completed,) = list(later.run([activity_window(8)]))
    (second_create,) = calls(admin, "create")[1:]
    assert second_create["time"] >= "2026-11-02T15:10:00Z", "waited for the orphaned job to finish first"
    assert completed.request.label == activity_window(8).label
