"""Every row of the code table, injected into the sandbox, gets the handling the API reference asks for.

The expected handling is written here, independently of the table: a row changed by mistake, or a row
added without deciding its handling here, fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from marketo_stream.marketo import errors
from marketo_stream.marketo.errors import MarketoError
from marketo_stream.marketo.resolution import CODE_TABLE, Resolution
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import TYPES, SandboxAdmin, SandboxClock, make_client

RETRIED = {
    "timeout", "connection", "HTTP 500", "HTTP 502", "HTTP 503", "HTTP 504", "HTTP 5xx",
    "604", "608", "611", "614", "713", "719", "1014", "1016", "1019",
}  # fmt: skip
WAITED_FOR_RATE = {"606": 20.0, "HTTP 429": 20.0, "615": 1.0}
WAITED_FOR_SLOT = {"1029 too many jobs": 60.0}
REFRESHED = {"601", "602"}
RESENT_AS_POST = {"HTTP 414"}
TREATED_AS_SUCCESS = {"1029 already queued"}
STOPPED: dict[str, type[MarketoError]] = {"607": errors.QuotaExceeded, "1029 quota": errors.ExportQuotaExceeded}
FAILED_SPECIALLY: dict[str, type[MarketoError]] = {
    "HTTP 401": errors.BadCredentials,
    "HTTP 404": errors.FileGone,
    "603": errors.AccessDenied,
    "1035": errors.UnsupportedFilter,
}

MESSAGES = {
    "1029 too many jobs": "Too many jobs in queue",
    "1029 quota": "Export daily quota 500MB exceeded.",
    "1029 already queued": "Job already queued",
    "1029": "Something Marketo never documented",
}


def row_id(row: Resolution) -> str:
    return f"{row.code} {row.message_contains}" if row.message_contains else row.code


ROWS = {row_id(row): row for row in CODE_TABLE}


def fault_for(key: str, row: Resolution, times: int | None = 1) -> dict[str, Any]:
    """The sandbox fault that makes Marketo answer this row."""
    if key == "timeout":
        return {"delay_seconds": 0.5, "times": times}
    if key == "connection":
        return {"drop_after_bytes": 5, "times": times}
    if key == "HTTP 5xx":
        return {"http_status": 599, "times": times}
    if key == "HTTP 4xx":
        return {"http_status": 418, "body": "I'm a teapot", "times": times}
    if row.code.startswith("HTTP"):
        return {"http_status": int(row.code.split()[1]), "body": f"status {row.code}", "times": times}
    return {"code": row.code, "message": MESSAGES.get(key, f"message for {row.code}"), "times": times}


def test_every_row_has_a_decided_handling() -> None:
    decided = (
        RETRIED
        | set(WAITED_FOR_RATE)
        | set(WAITED_FOR_SLOT)
        | REFRESHED
        | RESENT_AS_POST
        | TREATED_AS_SUCCESS
        | set(STOPPED)
        | set(FAILED_SPECIALLY)
    )
    assert decided <= set(ROWS), decided - set(ROWS)
    failing = set(ROWS) - decided
    assert all(ROWS[key].action.name == "FAIL" for key in failing), sorted(failing)


@pytest.fixture
def setup(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., tuple[Any, SandboxAdmin, SandboxClock]]:
    def make(**client_config: Any) -> tuple[Any, SandboxAdmin, SandboxClock]:
        sandbox = sandbox_factory()
        admin = SandboxAdmin(sandbox)
        clock = SandboxClock(admin)
        return make_client(sandbox, clock, timeout_seconds=0.25, **client_config), admin, clock

    return make


def settled_calls(admin: SandboxAdmin, before: int, expected: int) -> list[dict[str, Any]]:
    """The calls logged since ``before``; a timed-out call is logged when its late answer is written."""
    deadline = time.monotonic() + 5
    while True:
        calls = admin.requests("activities/types")[before:]
        if len(calls) >= expected or time.monotonic() > deadline:
            return calls
        time.sleep(0.02)


def expected_error(key: str) -> type[MarketoError] | None:
    """The typed error a row raises at once, or None when the client retries or succeeds."""
    handled = RETRIED | set(WAITED_FOR_RATE) | set(WAITED_FOR_SLOT) | REFRESHED | RESENT_AS_POST | TREATED_AS_SUCCESS
    if key in handled:
        return None
    return STOPPED.get(key) or FAILED_SPECIALLY.get(key) or errors.MarketoRequestError


@pytest.mark.parametrize("key", sorted(ROWS))
def test_code_table_row(key: str, setup: Callable[..., tuple[Any, SandboxAdmin, SandboxClock]]) -> None:
    row = ROWS[key]
    client, admin, clock = setup()
    client.get(TYPES)  # token fetched, connection warm
    admin.fault("activities/types", **fault_for(key, row))
    before = len(admin.requests("activities/types"))

    error = expected_error(key)
    if error is not None:
        with pytest.raises(error) as raised:
            client.get(TYPES)
        assert type(raised.value) is error
        if key.startswith("HTTP"):
            assert raised.value.code == f"HTTP {fault_for(key, row)['http_status']}"
        else:
            assert raised.value.code == row.code
            assert raised.value.message == fault_for(key, row)["message"]
            assert raised.value.request_id and "#" in raised.value.request_id
        assert len(admin.requests("activities/types")) - before == 1, "not retried"
        assert clock.slept == []
        return

    envelope = client.get(TYPES)
    calls = settled_calls(admin, before, expected=1 if key in TREATED_AS_SUCCESS else 2)
    if key in TREATED_AS_SUCCESS:
        assert envelope.absorbed is not None and envelope.absorbed.code == "1029"
        assert len(calls) == 1
        return
    assert envelope.success and envelope.result, "succeeded on the retry"
    assert len(calls) == 2
    if key in RETRIED:
        assert len(clock.slept) == 1 and 0 < clock.slept[0] <= 1.0, "one short exponential backoff"
    elif key in WAITED_FOR_RATE:
        assert clock.slept == [WAITED_FOR_RATE[key]]
    elif key in WAITED_FOR_SLOT:
        assert clock.slept == [WAITED_FOR_SLOT[key]]
    elif key in REFRESHED:
        assert client.tokens.fetches == 2, "a new token was asked for"
        assert len(admin.requests("identity")) == 2
    else:
        assert key in RESENT_AS_POST
        assert "_method" not in calls[0]["query"] and calls[1]["query"].get("_method") == "GET"
