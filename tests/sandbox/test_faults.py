"""Faults on demand: error codes after N matching calls for M times, bare HTTP errors, method filters, the admin API."""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import time
from collections.abc import Callable

from marketo_stream.sandbox import FaultRule, Sandbox
from tests.sandbox.client import Api, error_code, run_export

TYPES = "/rest/v1/activities/types.json"
OCTOBER = {"startAt": "2026-10-01T00:00:00Z", "endAt": "2026-10-31T23:59:59Z"}


def test_a_code_fires_after_n_matching_calls_for_m_calls(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.admin("POST", "faults", {"faults": [{"path": "types\\.json$", "after": 2, "times": 2, "code": "606"}]})
    codes = [error_code(api.get(TYPES)) for _ in range(5)]
    assert codes == [None, None, "606", "606", None]
    log = api.admin("GET", "requests", path="types")["requests"]
    assert log[2]["code"] == "606"
    assert api.get(TYPES)["success"]


def test_default_messages_follow_the_configured_limits(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(rate_limit_calls=50, rate_limit_window_seconds=10))
    api.admin("POST", "faults", {"faults": [{"path": "types", "code": "606"}]})
    assert api.get(TYPES)["errors"][0]["message"] == "Max rate limit '50' exceeded with in '10' secs"


def test_bare_http_errors_and_method_filters(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    rules = [{"path": "types", "method": "POST", "code": "611"}, {"path": "types", "method": "GET", "http_status": 502}]
    api.admin("POST", "faults", {"faults": rules})
    gateway = api.raw("GET", TYPES)
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"].startswith("text/plain")
    assert api.get(TYPES)["success"]


def test_rules_from_the_config_are_live_at_start_and_can_be_listed_and_cleared(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    api = Api(sandbox_factory(faults=[FaultRule(path="types", code="713", times=0)]))
    assert error_code(api.get(TYPES)) == "713"
    listed = api.admin("GET", "faults")["faults"]
    assert listed[0]["code"] == "713" and listed[0]["seen"] == 1
    api.admin("DELETE", "faults")
    assert api.get(TYPES)["success"]


def test_a_delayed_call_is_held_until_the_faults_are_cleared_then_answered(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.authenticate()
    api.admin("POST", "faults", {"faults": [{"path": "types", "delay_seconds": 600}]})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(api.twin().get, TYPES)
        deadline = time.monotonic() + 30
        while api.admin("GET", "stats")["in_flight"] < 1:
            assert time.monotonic() < deadline, "the delayed call never arrived"
            time.sleep(0.01)
        assert not held.done()
        api.admin("DELETE", "faults")
        assert held.result(timeout=30)["success"]


def test_identity_can_be_faulted_too(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.admin("POST", "faults", {"faults": [{"path": "/identity/", "http_status": 503}]})
    params = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    assert api.session.get(f"{sandbox.url}/identity/oauth/token", params=params).status_code == 503


def test_reset_restores_the_start(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.get(TYPES)
    api.advance(86400)
    api.admin("POST", "faults", {"faults": [{"path": "types", "code": "606"}]})
    assert api.admin("POST", "reset")["now"] == "2026-11-02T15:00:00Z"
    assert api.admin("GET", "faults")["faults"] == []
    assert api.admin("GET", "stats")["calls_today"] == 0
    assert error_code(api.get(TYPES)) == "601", "tokens are forgotten too"


def test_a_corrupt_body_has_the_right_size_and_a_wrong_checksum_until_the_rule_is_spent(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    base = "/bulk/v1/leads/export"
    job, sound = run_export(api, base, {"fields": ["id", "email"], "filter": {"createdAt": OCTOBER}})
    api.admin("POST", "faults", {"faults": [{"path": r"/file\.json$", "corrupt_body": True, "times": 1}]})
    corrupt = api.raw("GET", f"{base}/{job['exportId']}/file.json").content
    assert len(corrupt) == len(sound) == job["fileSize"]
    assert sum(a != b for a, b in zip(corrupt, sound, strict=True)) == 1
    assert "sha256:" + hashlib.sha256(corrupt).hexdigest() != job["fileChecksum"]
    assert api.raw("GET", f"{base}/{job['exportId']}/file.json").content == sound, "the next download is sound"


def test_a_corrupt_range_is_corrupt_within_the_range(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    base = "/bulk/v1/leads/export"
    job, sound = run_export(api, base, {"fields": ["id", "email"], "filter": {"createdAt": OCTOBER}})
    api.admin("POST", "faults", {"faults": [{"path": r"/file\.json$", "corrupt_body": True, "times": 1}]})
    tail = api.raw("GET", f"{base}/{job['exportId']}/file.json", headers={"Range": "bytes=100-"})
    assert tail.status_code == 206
    assert len(tail.content) == len(sound) - 100 and tail.content != sound[100:]


def test_an_expiring_token_answers_602_then_601_and_identity_issues_a_new_one(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    old = api.authenticate()
    api.admin("POST", "faults", {"faults": [{"path": "types", "expire_token": True, "after": 1, "times": 1}]})
    assert api.get(TYPES)["success"]
    assert error_code(api.get(TYPES)) == "602"
    assert error_code(api.get(TYPES)) == "601"
    assert api.authenticate() != old
    assert api.get(TYPES)["success"]
    counted = [e["counted"] for e in api.admin("GET", "requests", path="types")["requests"]]
    assert counted == [True, False, False, True], "601 and 602 are not counted"


def test_malformed_rows_break_lead_and_custom_object_exports_when_asked(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    """A broken text cell keeps the file's checksum right and reads as one cell too many; keys are never broken."""
    sandbox = sandbox_factory(scale="tiny", malformed_rows=[[2, "quote"]], malformed_exports=["leads", "customobject"])
    api = Api(sandbox)
    body = {"fields": ["id", "email", "firstName"], "filter": {"createdAt": OCTOBER}}
    job, data = run_export(api, "/bulk/v1/leads/export", body)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == job["fileChecksum"]
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert [len(row) for row in rows[:4]] == [3, 3, 4, 3], "record 2 (line 3) reads one cell too many"
    broken = api.admin("GET", "truth/_rejected")["records"]
    assert [(r["export_id"], r["line"], r["kind"]) for r in broken] == [(job["exportId"], 3, "quote")]
    cars = {"fields": ["marketoGUID", "leadId", "vin"], "filter": {"updatedAt": OCTOBER}}
    _, cars_file = run_export(api, "/bulk/v1/customobjects/car_c/export", cars)
    third = cars_file.decode().splitlines()[2]
    assert third.startswith("car-") and ' said "hi, there" twice"' in third, "the VIN is broken, not the key"
    run_export(api, "/bulk/v1/activities/export", {"filter": {"createdAt": OCTOBER}})
    assert len(api.admin("GET", "truth/_rejected")["records"]) == 2, "activity exports are left alone"
