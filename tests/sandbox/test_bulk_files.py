"""Bulk Extract files: the CSV Marketo writes, checksums, Range requests, and the job lifecycle around them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import requests

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code, parse_csv, run_export, wait_for_status

ACTIVITIES = "/bulk/v1/activities/export"
LEADS = "/bulk/v1/leads/export"
OCTOBER = {"startAt": "2026-10-01T00:00:00Z", "endAt": "2026-10-31T23:59:59Z"}
DEFAULT_ACTIVITY_HEADER = [
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
]


def test_an_activity_export_serves_the_default_columns_with_checksum_size_and_record_count(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    job, data = run_export(api, ACTIVITIES, {"format": "CSV", "filter": {"createdAt": OCTOBER}})
    rows = parse_csv(data)
    logged = api.admin("GET", "requests", path="create\\.json$")["requests"]
    assert logged[0]["body"] == {"format": "CSV", "filter": {"createdAt": OCTOBER}}
    assert job["status"] == "Completed"
    assert rows[0] == DEFAULT_ACTIVITY_HEADER
    assert job["numberOfRecords"] == len(rows) - 1 > 100
    assert job["fileSize"] == len(data)
    assert job["fileChecksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert all("2026-10-01T00:00:00Z" <= row[2] <= "2026-10-31T23:59:59Z" for row in rows[1:])
    attributes = json.loads(rows[1][7])
    assert isinstance(attributes, dict)


def test_the_activity_type_filter_and_the_optional_action_result_column(sandbox: Sandbox) -> None:
    body = {
        "fields": ["marketoGUID", "activityTypeId", "actionResult"],
        "filter": {"createdAt": OCTOBER, "activityTypeIds": [6, 7]},
    }
    _, data = run_export(Api(sandbox), ACTIVITIES, body)
    rows = parse_csv(data)
    assert rows[0] == ["marketoGUID", "activityTypeId", "actionResult"]
    assert {row[1] for row in rows[1:]} == {"6", "7"}
    assert {row[2] for row in rows[1:]} == {"succeeded"}


def test_lead_csv_writes_null_for_empty_renames_headers_and_quotes_embedded_newlines(sandbox: Sandbox) -> None:
    fields = ["id", "email", "interestNotes", "annualBudget", "createdAt"]
    body = {"fields": fields, "columnHeaderNames": {"id": "Marketo Id"}, "filter": {"createdAt": OCTOBER}}
    job, data = run_export(Api(sandbox), LEADS, body)
    rows = parse_csv(data)
    assert rows[0] == ["Marketo Id", "email", "interestNotes", "annualBudget", "createdAt"]
    notes = [row[2] for row in rows[1:]]
    assert "null" in notes
    assert any("\r\n" in note for note in notes), "an interestNotes value with a CRLF inside is expected"
    assert b'"Line one\r\nline two, with a comma"' in data
    assert job["numberOfRecords"] == len(rows) - 1


def test_tsv_format_uses_tabs(sandbox: Sandbox) -> None:
    body = {"format": "TSV", "fields": ["id", "email"], "filter": {"createdAt": OCTOBER}}
    _, data = run_export(Api(sandbox), LEADS, body)
    assert data.split(b"\n")[0] == b"id\temail"


def test_range_requests_are_answered_206_and_resume_to_the_same_bytes(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    job, data = run_export(api, ACTIVITIES, {"filter": {"createdAt": OCTOBER}})
    url = f"{ACTIVITIES}/{job['exportId']}/file.json"
    head = api.raw("GET", url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-99/{job['fileSize']}"
    assert head.headers["Accept-Ranges"] == "bytes"
    rest = api.raw("GET", url, headers={"Range": "bytes=100-"})
    assert rest.status_code == 206
    assert head.content + rest.content == data


def test_a_dropped_download_resumes_with_range_and_verifies(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    job, data = run_export(api, ACTIVITIES, {"filter": {"createdAt": OCTOBER}})
    api.admin("POST", "faults", {"faults": [{"path": "/file\\.json$", "drop_after_bytes": 5000}]})
    url = f"{ACTIVITIES}/{job['exportId']}/file.json"
    received = b""
    try:
        with api.raw("GET", url, stream=True) as answer:
            for chunk in answer.iter_content(1024):
                received += chunk
    except requests.exceptions.RequestException:
        pass
    assert 0 < len(received) < len(data)
    rest = api.raw("GET", url, headers={"Range": f"bytes={len(received)}-"})
    whole = received + rest.content
    assert "sha256:" + hashlib.sha256(whole).hexdigest() == job["fileChecksum"]


def test_nothing_is_served_before_completion_and_status_moves_with_the_clock(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    api = Api(sandbox_factory(job_duration_seconds=300))
    export_id = api.post(f"{LEADS}/create.json", json={"fields": ["id"], "filter": {"createdAt": OCTOBER}})["result"][
        0
    ]["exportId"]
    assert api.post(f"{LEADS}/{export_id}/enqueue.json")["result"][0]["status"] == "Queued"
    assert api.get(f"{LEADS}/{export_id}/status.json")["result"][0]["status"] == "Processing"
    early = api.raw("GET", f"{LEADS}/{export_id}/file.json")
    assert early.status_code == 404
    assert early.headers["Content-Type"].startswith("text/plain")
    api.advance(301)
    done = api.get(f"{LEADS}/{export_id}/status.json")["result"][0]
    assert done["status"] == "Completed", "a job is done when its duration has passed on the simulated clock"
    assert done["finishedAt"] == "2026-11-02T15:05:00Z"
    assert api.raw("GET", f"{LEADS}/{export_id}/file.json").status_code == 200


def test_status_changes_show_at_most_once_per_refresh_interval(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(job_duration_seconds=90, status_refresh_seconds=60))
    export_id = api.post(f"{LEADS}/create.json", json={"fields": ["id"], "filter": {"createdAt": OCTOBER}})["result"][
        0
    ]["exportId"]
    api.post(f"{LEADS}/{export_id}/enqueue.json")
    api.advance(100)  # done at +90 s, but the last refresh tick was +60 s
    assert api.get(f"{LEADS}/{export_id}/status.json")["result"][0]["status"] == "Processing"
    api.advance(20)  # the +120 s tick
    assert wait_for_status(api, LEADS, export_id, {"Completed"})["status"] == "Completed"


def test_after_seven_days_the_file_is_gone_while_the_status_still_says_completed(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    job, _ = run_export(api, LEADS, {"fields": ["id"], "filter": {"createdAt": OCTOBER}})
    api.advance(7 * 86400 + 1)
    assert api.get(f"{LEADS}/{job['exportId']}/status.json")["result"][0]["status"] == "Completed"
    assert api.raw("GET", f"{LEADS}/{job['exportId']}/file.json").status_code == 404
    assert api.get(f"{LEADS}.json").get("result") == [], "the job list shows the last 7 days"
    api.advance(23 * 86400)
    assert error_code(api.get(f"{LEADS}/{job['exportId']}/status.json")) == "1003", "status is kept 30 days"


def test_cancel_moves_a_queued_job_to_cancelled(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(other_processing_jobs=2))
    export_id = api.post(f"{LEADS}/create.json", json={"fields": ["id"], "filter": {"createdAt": OCTOBER}})["result"][
        0
    ]["exportId"]
    api.post(f"{LEADS}/{export_id}/enqueue.json")
    assert api.post(f"{LEADS}/{export_id}/cancel.json")["result"][0]["status"] == "Cancelled"
    assert api.get(f"{LEADS}/{export_id}/status.json")["result"][0]["status"] == "Cancelled"
    assert error_code(api.post(f"{LEADS}/{export_id}/cancel.json")) == "1003"
