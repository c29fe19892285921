"""REST call limits: the rolling rate window (606), concurrency (615), the daily quota (607) and what is counted."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code

TYPES = "/rest/v1/activities/types.json"


def test_the_101st_call_within_20_seconds_answers_606_with_marketos_message(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    codes = [error_code(api.get(TYPES)) for _ in range(101)]
    assert codes[:100] == [None] * 100
    rejected = api.get(TYPES)
    assert rejected["errors"] == [{"code": "606", "message": "Max rate limit '100' exceeded with in '20' secs"}]


def test_the_rate_window_rolls_with_the_clock(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(rate_limit_calls=3, rate_limit_window_seconds=20))
    assert [error_code(api.get(TYPES)) for _ in range(4)] == [None, None, None, "606"]
    api.advance(21)
    assert error_code(api.get(TYPES)) is None


def test_more_calls_in_flight_than_the_concurrency_limit_answer_615(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(concurrency_limit=2)
    api = Api(sandbox)
    api.authenticate()
    api.admin("POST", "faults", {"faults": [{"path": "types", "delay_seconds": 600, "times": 2}]})  # until cleared

    def call() -> str | None:
        return error_code(api.twin().get(TYPES))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(call) for _ in range(2)]
        deadline = time.monotonic() + 5
        while api.admin("GET", "stats")["in_flight"] < 2:
            assert time.monotonic() < deadline, "the two delayed calls never were in flight together"
            assert not any(f.done() for f in slow), [f.result() for f in slow if f.done()]
            time.sleep(0.01)
        blocked = error_code(Api(sandbox).get(TYPES))
        api.admin("DELETE", "faults")  # the two held calls are answered now
    assert blocked == "615"
    assert [f.result() for f in slow] == [None, None]


def test_the_daily_quota_answers_607_until_midnight_in_chicago(sandbox_factory: Callable[..., Sandbox]) -> None:
    # The configured start, 2026-11-02T15:00Z, is 09:00 in Chicago: midnight there is 15 hours later.
    api = Api(sandbox_factory(daily_quota=3, start="2026-11-02T15:00:00Z"))
    assert [error_code(api.get(TYPES)) for _ in range(4)] == [None, None, None, "607"]
    api.advance(14 * 3600)
    api.authenticate()
    assert error_code(api.get(TYPES)) == "607"
    api.advance(3600 + 1)
    api.authenticate()
    assert error_code(api.get(TYPES)) is None


def test_identity_calls_and_token_errors_are_not_counted(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(rate_limit_calls=2))
    for _ in range(5):
        api.authenticate()
    good = api.token
    api.token = "garbage"
    for _ in range(5):
        assert error_code(api.get(TYPES)) == "601"
    api.token = good
    assert [error_code(api.get(TYPES)) for _ in range(3)] == [None, None, "606"]
    usage = api.admin("GET", "stats")
    assert usage["calls_today"] == 3


def test_usage_stats_report_the_calls_counted_today_per_api_user(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    for _ in range(4):
        api.get(TYPES)
    today = api.get("/rest/v1/stats/usage.json")["result"]
    assert today[0]["total"] == 4
    assert today[0]["users"] == [{"userId": "sandbox.api@example.com", "count": 4}]
    week = api.get("/rest/v1/stats/usage/last7days.json")["result"]
    assert len(week) == 7
    assert week[0]["total"] == 5
