"""The /_sandbox control plane: the simulated clock and the request log."""

from __future__ import annotations

import time
from collections.abc import Callable

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api


def test_the_clock_starts_at_the_configured_instant_and_only_moves_when_told(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    assert api.admin("GET", "clock")["now"] == "2026-11-02T15:00:00Z"
    assert api.admin("POST", "clock", {"advance_seconds": 90})["now"] == "2026-11-02T15:01:30Z"
    assert api.admin("POST", "clock", {"set": "2026-11-03T00:00:00Z"})["now"] == "2026-11-03T00:00:00Z"
    assert api.admin("GET", "clock")["now"] == "2026-11-03T00:00:00Z"


def test_without_a_start_the_clock_starts_at_the_machines_now(sandbox_factory: Callable[..., Sandbox]) -> None:
    """A client that bookmarks by its own clock sees what a real instance would show: no month-old now."""
    before = int(time.time())
    epoch = Api(sandbox_factory(start="", scale="tiny")).admin("GET", "clock")["epoch"]
    assert before <= epoch <= time.time()


def test_the_clock_refuses_to_go_back(sandbox: Sandbox) -> None:
    answer = Api(sandbox).session.post(f"{sandbox.url}/_sandbox/clock", json={"set": "2020-01-01T00:00:00Z"})
    assert answer.status_code == 400


def test_the_request_log_records_each_api_call_with_its_answer(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.get("/rest/v1/activities/types.json", foo="bar")
    api.token = "garbage"
    api.get("/rest/v1/activities/types.json")
    log = api.admin("GET", "requests", path="types")["requests"]
    assert [(e["method"], e["path"], e["code"], e["counted"]) for e in log] == [
        ("GET", "/rest/v1/activities/types.json", None, True),
        ("GET", "/rest/v1/activities/types.json", "601", False),
    ]
    assert log[0]["query"] == {"foo": "bar"}
    assert log[0]["time"] == "2026-11-02T15:00:00Z"
    later = api.admin("GET", "requests", since=log[0]["seq"])["requests"]
    assert [e["seq"] for e in later] == [log[1]["seq"]]


def test_the_identity_secret_is_masked_in_the_log(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.authenticate()
    entry = api.admin("GET", "requests", path="identity")["requests"][0]
    assert entry["query"]["client_secret"] == "***"


def test_activity_types_list_standard_and_custom_types(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    types = {t["id"]: t for t in api.get("/rest/v1/activities/types.json")["result"]}
    assert types[1]["primaryAttribute"] == {"name": "Webpage ID", "dataType": "integer"}
    assert "primaryAttribute" not in types[12]
    assert {100001, 100002} <= set(types)
    custom = api.get("/rest/v1/activities/external/types.json")["result"]
    assert {c["apiName"] for c in custom} == {"attendWebinar_c", "purchaseProduct_c"}
    described = api.get("/rest/v1/activities/external/type/attendWebinar_c/describe.json")["result"][0]
    assert described["primaryAttribute"]["name"] == "Webinar Name"
    assert {a["name"] for a in described["attributes"]} >= {"Minutes Attended", "Host"}
