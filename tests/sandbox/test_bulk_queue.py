"""Bulk Extract rules: processing slots, the shared queue, the daily export quota, validation and ownership."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code, parse_csv, run_export, wait_for_status

ACTIVITIES = "/bulk/v1/activities/export"
LEADS = "/bulk/v1/leads/export"
OCTOBER = {"startAt": "2026-10-01T00:00:00Z", "endAt": "2026-10-31T23:59:59Z"}
LEAD_JOB = {"fields": ["id", "email"], "filter": {"createdAt": OCTOBER}}


def _create(api: Api, base: str = LEADS, body: dict[str, Any] | None = None) -> str:
    answer = api.post(f"{base}/create.json", json=body or LEAD_JOB)
    assert answer["success"], answer
    export_id: str = answer["result"][0]["exportId"]
    return export_id


def _status(api: Api, export_id: str, base: str = LEADS) -> str:
    status: str = api.get(f"{base}/{export_id}/status.json")["result"][0]["status"]
    return status


def test_two_jobs_process_at_once_and_the_rest_wait_queued(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(job_duration_seconds=600))
    jobs = [_create(api) for _ in range(3)]
    for export_id in jobs:
        api.post(f"{LEADS}/{export_id}/enqueue.json")
    assert [_status(api, j) for j in jobs] == ["Processing", "Processing", "Queued"]
    api.advance(601)
    wait_for_status(api, LEADS, jobs[0], {"Completed"})
    assert _status(api, jobs[2]) == "Processing"


def test_the_queue_counts_jobs_of_every_object_type_and_other_integrations(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    api = Api(sandbox_factory(job_duration_seconds=600, other_processing_jobs=2, other_queued_jobs=6))
    activity_job = _create(api, ACTIVITIES, {"filter": {"createdAt": OCTOBER}})
    lead_jobs = [_create(api) for _ in range(2)]
    for base, export_id in [(ACTIVITIES, activity_job), (LEADS, lead_jobs[0])]:
        assert api.post(f"{base}/{export_id}/enqueue.json")["success"]
    rejected = api.post(f"{LEADS}/{lead_jobs[1]}/enqueue.json")
    assert rejected["errors"] == [{"code": "1029", "message": "Too many jobs in queue"}]
    assert _status(api, activity_job, ACTIVITIES) == "Queued", "the other integrations hold both processing slots"


def test_slots_held_by_others_can_be_changed_while_running(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(other_processing_jobs=2))
    export_id = _create(api)
    api.post(f"{LEADS}/{export_id}/enqueue.json")
    assert _status(api, export_id) == "Queued"
    api.admin("POST", "bulk", {"other_processing_jobs": 0})
    assert wait_for_status(api, LEADS, export_id, {"Completed"})["status"] == "Completed"


def test_enqueueing_twice_answers_job_already_queued(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(job_duration_seconds=600))
    export_id = _create(api)
    api.post(f"{LEADS}/{export_id}/enqueue.json")
    again = api.post(f"{LEADS}/{export_id}/enqueue.json")
    assert again["errors"] == [{"code": "1029", "message": "Job already queued"}]


def test_the_daily_export_quota_blocks_create_and_enqueue_until_midnight_in_chicago(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    api = Api(sandbox_factory(export_daily_quota_mb=0.01, start="2026-11-02T15:00:00Z"))
    waiting = _create(api)
    _, data = run_export(api, ACTIVITIES, {"filter": {"createdAt": OCTOBER}})
    assert len(data) > 0.01 * 1024 * 1024
    quota = {"code": "1029", "message": "Export daily quota 0.01MB exceeded."}
    assert api.post(f"{LEADS}/create.json", json=LEAD_JOB)["errors"] == [quota]
    assert api.post(f"{LEADS}/{waiting}/enqueue.json")["errors"] == [quota]
    api.advance(15 * 3600 + 1)  # 09:00 Chicago + 15 h = the next midnight there
    api.authenticate()
    assert api.post(f"{LEADS}/create.json", json=LEAD_JOB)["success"]
    assert api.admin("GET", "stats")["export_bytes_today"] == 0


def test_quota_used_by_other_integrations_counts(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(other_export_mb_used=500))
    assert (
        api.post(f"{LEADS}/create.json", json=LEAD_JOB)["errors"][0]["message"] == "Export daily quota 500MB exceeded."
    )


def test_a_date_range_over_31_days_is_rejected(sandbox: Sandbox) -> None:
    body = {"filter": {"createdAt": {"startAt": "2026-09-01T00:00:00Z", "endAt": "2026-10-03T00:00:00Z"}}}
    answer = Api(sandbox).post(f"{ACTIVITIES}/create.json", json=body)
    assert error_code(answer) == "1003"
    assert "31 days" in answer["errors"][0]["message"]


def test_invalid_requests_answer_1003(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    cases = [
        (LEADS, {"fields": ["id", "noSuchField"], "filter": {"createdAt": OCTOBER}}),
        (LEADS, {"filter": {"createdAt": OCTOBER}}),
        (ACTIVITIES, {"filter": {"activityTypeIds": [1]}}),
        (ACTIVITIES, {"filter": {"createdAt": OCTOBER, "activityTypeIds": [37]}}),
        (ACTIVITIES, {"fields": ["marketoGUID", "bogus"], "filter": {"createdAt": OCTOBER}}),
    ]
    assert [error_code(api.post(f"{base}/create.json", json=body)) for base, body in cases] == ["1003"] * len(cases)


def test_the_lead_updated_at_filter_can_be_switched_off_to_answer_1035(sandbox_factory: Callable[..., Sandbox]) -> None:
    body = {"fields": ["id"], "filter": {"updatedAt": OCTOBER}}
    assert Api(sandbox_factory()).post(f"{LEADS}/create.json", json=body)["success"]
    off = Api(sandbox_factory(lead_updated_at_filter=False)).post(f"{LEADS}/create.json", json=body)
    assert off["errors"] == [{"code": "1035", "message": "Unsupported filter type for target subscription"}]


def test_jobs_are_visible_only_to_the_client_that_created_them(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(extra_clients=[["other-client", "other-secret"]])
    owner, other = Api(sandbox), Api(sandbox, "other-client", "other-secret")
    job, _ = run_export(owner, LEADS, LEAD_JOB)
    export_id = job["exportId"]
    assert error_code(other.get(f"{LEADS}/{export_id}/status.json")) == "1003"
    assert error_code(other.post(f"{LEADS}/{export_id}/cancel.json")) == "1003"
    assert other.raw("GET", f"{LEADS}/{export_id}/file.json").status_code == 404
    assert other.get(f"{LEADS}.json").get("result") == []
    assert [j["exportId"] for j in owner.get(f"{LEADS}.json")["result"]] == [export_id]


def test_the_job_list_filters_by_status_in_any_spelling_and_pages(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory())
    done = [run_export(api, LEADS, LEAD_JOB)[0]["exportId"] for _ in range(2)]
    created = _create(api)
    assert {j["exportId"] for j in api.get(f"{LEADS}.json", status="Completed")["result"]} == set(done)
    assert {j["exportId"] for j in api.get(f"{LEADS}.json", status="created,completed")["result"]} == {*done, created}
    repeated = api.raw("GET", f"{LEADS}.json", params=[("status", "CREATED"), ("status", "Failed")]).json()
    assert [j["exportId"] for j in repeated["result"]] == [created]
    first = api.get(f"{LEADS}.json", batchSize=2)
    assert len(first["result"]) == 2
    last = api.get(f"{LEADS}.json", batchSize=2, nextPageToken=first["nextPageToken"])
    assert len(last["result"]) == 1
    assert "nextPageToken" not in last


def test_program_member_export_with_program_ids_prepends_a_program_id_column(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    programs = [p["id"] for p in api.get("/rest/asset/v1/programs.json", maxReturn=200)["result"]][:10]
    body = {"fields": ["leadId", "statusName", "email"], "filter": {"programIds": programs}}
    _, data = run_export(api, "/bulk/v1/program/members/export", body)
    rows = parse_csv(data)
    assert rows[0] == ["programId", "leadId", "statusName", "email"]
    assert len(rows) > 1
    assert {int(row[0]) for row in rows[1:]} <= set(programs)


def test_custom_object_export(sandbox: Sandbox) -> None:
    body = {"fields": ["marketoGUID", "leadId", "vin"], "filter": {"updatedAt": OCTOBER}}
    _, data = run_export(Api(sandbox), "/bulk/v1/customobjects/car_c/export", body)
    assert parse_csv(data)[0] == ["marketoGUID", "leadId", "vin"]


def test_a_scripted_failure_ends_the_job_failed_with_its_reason(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.admin("POST", "faults", {"faults": [{"path": "leads/export/create", "job": "fail", "message": "Disk full"}]})
    export_id = _create(api)
    api.post(f"{LEADS}/{export_id}/enqueue.json")
    job = wait_for_status(api, LEADS, export_id, {"Failed", "Completed"})
    assert (job["status"], job["errorMsg"]) == ("Failed", "Disk full")
    assert api.raw("GET", f"{LEADS}/{export_id}/file.json").status_code == 404


def test_a_scripted_lost_file_keeps_the_job_completed_but_answers_404(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    job, _ = run_export(api, LEADS, LEAD_JOB)
    api.admin("POST", "faults", {"faults": [{"path": "status\\.json$", "job": "file_gone"}]})
    assert _status(api, job["exportId"]) == "Completed"
    assert api.raw("GET", f"{LEADS}/{job['exportId']}/file.json").status_code == 404
