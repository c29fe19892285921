"""The one place where Marketo calls are retried: tenacity, driven by the code table.

An attempt that wants another try raises :class:`Again` with its row of the code table; this module
decides how long to wait (exponential for transient failures, a whole rate window for 606, growing
waits for a full export queue) and when to give up, counting retries per action so that, say, a token
refresh does not use up the allowance for 5xx. Sleeping goes through the injected clock.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying

from marketo_stream.marketo.errors import MarketoError
from marketo_stream.marketo.resolution import Action, Resolution
from marketo_stream.marketo.secrets import redact

log = logging.getLogger("marketo_stream.marketo")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how often to wait, per action of the code table. Tests shrink the seconds."""

    transient_retries: int = 4
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    rate_window_seconds: float = 20.0
    """606 means our window estimate was wrong (other integrations share it): wait a whole window."""
    rate_waits: int = 6
    concurrency_wait_seconds: float = 1.0
    concurrency_waits: int = 10
    slot_wait_seconds: float = 60.0
    """1029 queue full: 1, 2, 4 minutes, then every 4 minutes (Adobe's advice)."""
    slot_wait_cap_seconds: float = 240.0
    slot_waits: int = 5
    refreshes: int = 1

    def limit(self, resolution: Resolution) -> int:
        if resolution.retries is not None:
            return resolution.retries
        return {
            Action.RETRY: self.transient_retries,
            Action.WAIT_RATE: self.rate_waits,
            Action.WAIT_CONCURRENCY: self.concurrency_waits,
            Action.WAIT_SLOT: self.slot_waits,
            Action.REFRESH: self.refreshes,
        }.get(resolution.action, 0)

    def wait(self, resolution: Resolution, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based) for this row."""
        growth = 2.0 ** (attempt - 1)
        if resolution.action is Action.RETRY:
            return min(self.backoff_cap_seconds, self.backoff_base_seconds * growth)
        if resolution.action is Action.WAIT_RATE:
            return self.rate_window_seconds
        if resolution.action is Action.WAIT_CONCURRENCY:
            return min(self.backoff_cap_seconds, self.concurrency_wait_seconds * growth)
        if resolution.action is Action.WAIT_SLOT:
            return min(self.slot_wait_cap_seconds, self.slot_wait_seconds * growth)
        return 0.0


class Again(Exception):
    """Raised by an attempt: this row of the code table says try again; ``error`` if we may not."""

    def __init__(self, resolution: Resolution, error: MarketoError, *, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.resolution = resolution
        self.error = error
        self.wait = wait
        """A wait the answer itself asked for (e.g. ``Retry-After``), overriding the policy's."""


def run_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    *,
    what: str = "call",
) -> T:
    """Call ``attempt`` until it returns, raises something else, or its row's retries are spent."""
    counts: Counter[str] = Counter()

    def again_of(state: RetryCallState) -> Again:
        assert state.outcome is not None
        exc = state.outcome.exception()
        assert isinstance(exc, Again)
        return exc

    def should_retry(state: RetryCallState) -> bool:
        assert state.outcome is not None
        if not isinstance(state.outcome.exception(), Again):
            return False
        counts[again_of(state).resolution.key] += 1
        return True

    def should_stop(state: RetryCallState) -> bool:
        again = again_of(state)
        return counts[again.resolution.key] > policy.limit(again.resolution)

    def how_long(state: RetryCallState) -> float:
        again = again_of(state)
        if again.wait is not None:
            return again.wait
        return policy.wait(again.resolution, counts[again.resolution.key])

    def announce(state: RetryCallState) -> None:
        again = again_of(state)
        log.warning(
            "%s: Marketo %s (%s): %s; retry %d after %.3gs",
            redact(what),
            again.error.code,
            redact(again.error.message),
            again.resolution.action.value,
            counts[again.resolution.key],
            state.upcoming_sleep,
        )

    retrying = Retrying(
        retry=should_retry,
        stop=should_stop,
        wait=how_long,
        sleep=sleep,
        before_sleep=announce,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Again as exhausted:
        exhausted.error.endpoint = exhausted.error.endpoint or what
        raise exhausted.error from None
    except MarketoError as refused:
        refused.endpoint = refused.endpoint or what
        raise
