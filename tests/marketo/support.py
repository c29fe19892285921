"""Test helpers for the client and bulk tests: a clock whose waits move the sandbox's world, and admin calls.

Waiting is real behaviour of the client (a 606 must wait for the rate window), so tests do not fake it
away: :class:`SandboxClock` turns each ``sleep`` into an advance of the sandbox's simulated clock, which
also moves the sandbox's rate window and its export jobs. No test sleeps for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from marketo_stream.intervals import parse_instant
from marketo_stream.marketo.budget import BudgetLimits
from marketo_stream.marketo.client import ClientConfig, MarketoClient
from marketo_stream.marketo.retry import RetryPolicy
from marketo_stream.sandbox import Sandbox

TYPES = "/rest/v1/activities/types.json"


class SandboxAdmin:
    def __init__(self, sandbox: Sandbox) -> None:
        self.url = sandbox.url
        self.session = requests.Session()

    def call(self, method: str, endpoint: str, json: Any = None, **params: Any) -> dict[str, Any]:
        answer = self.session.request(method, f"{self.url}/_sandbox/{endpoint}", json=json, params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def fault(self, path: str, **effects: Any) -> None:
        self.call("POST", "faults", {"faults": [{"path": path, **effects}]})

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        params = {"path": path} if path else {}
        entries: list[dict[str, Any]] = self.call("GET", "requests", **params)["requests"]
        return entries

    def now(self) -> datetime:
        return parse_instant(self.call("GET", "clock")["now"])

    def advance(self, seconds: float) -> None:
        self.call("POST", "clock", {"advance_seconds": seconds})

    def set_clock(self, instant: datetime) -> None:
        self.call("POST", "clock", {"set": instant.strftime("%Y-%m-%dT%H:%M:%SZ")})


class SandboxClock:
    """The client's clock in tests: ``sleep`` advances the sandbox instead of blocking."""

    def __init__(self, admin: SandboxAdmin) -> None:
        self.admin = admin
        self.slept: list[float] = []
        self._advanced = 0.0
        self._start = admin.now()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._advanced)

    def monotonic(self) -> float:
        return time.monotonic() + self._advanced

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds > 0:
            self.admin.advance(seconds)
            self._advanced += seconds


FAST_RETRY = RetryPolicy()
"""Marketo's real waits: under a SandboxClock they cost no real time, and tests can assert them."""


def make_client(
    sandbox: Sandbox,
    clock: SandboxClock,
    *,
    secret: str | None = None,
    retry: RetryPolicy = FAST_RETRY,
    budget: BudgetLimits | None = None,
    **config: Any,
) -> MarketoClient:
    base = ClientConfig(timeout_seconds=10.0, retry=retry, budget=budget or BudgetLimits())
    return MarketoClient(
        sandbox.url,
        sandbox.client_id,
        sandbox.client_secret if secret is None else secret,
        config=replace(base, **config),
        clock=clock,
    )


@pytest.fixture
def admin(sandbox: Sandbox) -> SandboxAdmin:
    return SandboxAdmin(sandbox)


@pytest.fixture
def clock(admin: SandboxAdmin) -> SandboxClock:
    return SandboxClock(admin)


@pytest.fixture
def client(sandbox: Sandbox, clock: SandboxClock) -> Iterator[MarketoClient]:
    with make_client(sandbox, clock) as made:
        yield made
