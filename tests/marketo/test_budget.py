"""Our share of the instance's limits is kept on our side, before Marketo has to refuse us."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from marketo_stream.marketo.budget import BudgetLimits, CallBudget
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.errors import QuotaExceeded
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import TYPES, SandboxAdmin, SandboxClock, make_client


def started(sandbox_factory: Callable[..., Sandbox], **settings: object) -> tuple[Sandbox, SandboxAdmin, SandboxClock]:
    sandbox = sandbox_factory(**settings)
    admin = SandboxAdmin(sandbox)
    return sandbox, admin, SandboxClock(admin)


def test_calls_beyond_our_share_of_the_window_wait_instead_of_meeting_606(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox, admin, clock = started(sandbox_factory, rate_limit_calls=5, rate_limit_window_seconds=20)
    client = make_client(sandbox, clock, budget=BudgetLimits(calls_per_window=4, window_seconds=20))
    for _ in range(10):
        client.get(TYPES)
    assert [e["code"] for e in admin.requests("activities/types")] == [None] * 10
    assert 39 < sum(clock.slept) <= 40, "10 calls at 4 per 20 s: two windows of waiting"


def test_calls_in_flight_stay_within_the_concurrency_bound(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox, admin, clock = started(sandbox_factory, concurrency_limit=2)
    client = make_client(sandbox, clock, budget=BudgetLimits(max_concurrency=2))
    client.tokens.token()
    admin.fault("activities/types", delay_seconds=0.15, times=6)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: client.get(TYPES).success, range(6)))
    assert answers == [True] * 6
    assert [e["code"] for e in admin.requests("activities/types")] == [None] * 6, "never a 615"


def test_daily_budget_counts_other_integrations_and_stops_before_marketo_does(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox, admin, clock = started(sandbox_factory, extra_clients=[("other", "other-secret")])
    other = MarketoClient(sandbox.url, "other", "other-secret", clock=clock)
    for _ in range(6):
        other.get(TYPES)
    client = make_client(sandbox, clock, budget=BudgetLimits(daily_calls=12, usage_refresh_calls=2))
    made = 0
    with pytest.raises(QuotaExceeded) as raised:
        for _ in range(20):
            client.get(TYPES)
            made += 1
    assert "daily call budget of 12" in raised.value.message
    assert 3 <= made <= 5
    assert admin.call("GET", "stats")["calls_today"] <= 12
    assert "607" not in [e["code"] for e in admin.requests()]


class StillClock:
    """Time that moves only when slept through."""

    def __init__(self) -> None:
        self.at = 1_800_000_000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)

    def monotonic(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += max(seconds, 0.0)


def test_an_earlier_process_calls_count_against_the_window_and_what_it_did_unseen_is_taken_at_our_pace() -> None:
    clock = StillClock()
    budget = CallBudget(BudgetLimits(calls_per_window=4, window_seconds=20), clock)
    budget.assume_recent([clock.at - 25, clock.at - 15], told_at=clock.at - 10)
    # one call 15 s ago counts (the other is out of the window); 10 s unseen at 4 per 20 s: two more
    with budget.call():
        pass
    assert clock.slept == []
    with budget.call():
        pass
    assert clock.slept == [5.0], "the call of 15 s ago expires 5 s from now"
    at, calls = budget.recent_calls()
    assert at == clock.at and len(calls) == 4


def test_an_earlier_run_that_ended_cleanly_leaves_only_its_calls() -> None:
    clock = StillClock()
    budget = CallBudget(BudgetLimits(calls_per_window=4, window_seconds=20), clock)
    budget.assume_recent([clock.at - 1], told_at=None)
    for _ in range(3):
        with budget.call():
            pass
    assert clock.slept == []
