"""The code table's lookups and the retry loop that executes them (pure: no HTTP, no sleeping)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from marketo_stream.marketo.errors import ExportQueueFull, RetryableError
from marketo_stream.marketo.resolution import Action, resolve, resolve_http
from marketo_stream.marketo.retry import Again, RetryPolicy, run_with_retries


@pytest.mark.parametrize(
    ("message", "action"),
    [
        ("Too many jobs in queue", Action.WAIT_SLOT),
        ("Export daily quota 500MB exceeded.", Action.STOP),
        ("Export daily quota exceeded", Action.STOP),
        ("Job already queued", Action.SUCCEED),
        ("something new", Action.FAIL),
    ],
)
def test_1029_is_told_apart_by_its_message(message: str, action: Action) -> None:
    assert resolve("1029", message).action is action


def test_undocumented_codes_fail_and_undocumented_statuses_fall_into_their_class() -> None:
    assert resolve("999").action is Action.FAIL
    assert resolve_http(507).action is Action.RETRY
    assert resolve_http(451).action is Action.FAIL
    assert resolve_http(502).code == "HTTP 502"


def test_policy_waits_grow_per_action_and_are_capped() -> None:
    policy = RetryPolicy(backoff_base_seconds=1, backoff_cap_seconds=5)
    waits = [policy.wait(resolve("608"), n) for n in range(1, 6)]
    assert waits == [1, 2, 4, 5, 5]
    assert policy.wait(resolve("606"), 3) == 20.0
    assert [policy.wait(resolve("1029", "too many jobs in queue"), n) for n in (1, 2, 3, 4)] == [60, 120, 240, 240]


def scripted(*outcomes: Exception | str) -> Callable[[], str]:
    queue = list(outcomes)

    def attempt() -> str:
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt


def again(code: str, message: str = "") -> Again:
    row = resolve(code, message)
    return Again(row, row.error(code, message or code, "r#1"))


def test_retries_are_counted_per_action_so_a_refresh_does_not_spend_the_5xx_allowance() -> None:
    slept: list[float] = []
    attempt = scripted(again("608"), again("601"), again("608"), "ok")
    policy = RetryPolicy(transient_retries=2, backoff_base_seconds=0.5)
    assert run_with_retries(attempt, policy, slept.append) == "ok"
    assert slept == [0.5, 0.0, 1.0]


def test_when_retries_run_out_the_rows_typed_error_is_raised() -> None:
    attempt = scripted(again("1029", "Too many jobs in queue"), again("1029", "Too many jobs in queue"))
    with pytest.raises(ExportQueueFull) as raised:
        run_with_retries(attempt, RetryPolicy(slot_waits=1), lambda _: None)
    assert raised.value.request_id == "r#1"


def test_an_answer_may_ask_for_its_own_wait() -> None:
    slept: list[float] = []
    row = resolve("HTTP 503")
    attempt = scripted(Again(row, RetryableError("HTTP 503", "busy"), wait=7.0), "ok")
    run_with_retries(attempt, RetryPolicy(), slept.append)
    assert slept == [7.0]


def test_other_exceptions_pass_through_untouched() -> None:
    attempt = scripted(KeyError("bug"))
    with pytest.raises(KeyError):
        run_with_retries(attempt, RetryPolicy(), lambda _: None)
