"""``sync --follow``: passes for ever, each one a run of its own, with pauses that a signal or ``stop`` ends.

What happens after a pass is decided here, from the pass's exit status (``exit_codes.outcome``) alone:

- it succeeded: the next one starts after ``interval_seconds``;
- the world failed it (Kafka or Marketo unreachable, exit 5 and 7): logged, and retried after a pause that doubles
  with each failure in a row (up to ``MAX_BACKOFF_S``) and resets after a success;
- Marketo's daily quota is spent (calls, 607, or bulk export, 1029; exit 3): the next pass starts when the quota
  resets, at midnight US Central by Marketo's clock (plus a minute), not after a blind backoff;
- anything else (configuration, a refusal, fencing, a bug) ends the loop with its status, as it ends a one-shot run.

The pause between passes is a function (``Wait``): by default it sleeps on an event, which a signal interrupts
at once (the signal handlers raise) and ``FollowLoop.stop`` ends; something that has work to do between passes
(a tail streaming recent changes) can take its place. The loop knows nothing of Kafka: keeping one producer and
one registry client across passes is the pass's business (one ``SyncRunner`` whose sink is opened each pass).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from marketo_stream import logs
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.marketo.clock import MARKETO_DAY_ZONE
from marketo_stream.report import Progress

log = logging.getLogger("marketo_stream.sync")

TRANSIENT = frozenset({ExitStatus.KAFKA, ExitStatus.MARKETO_UNAVAILABLE})
"""Failures the world will get over: retried with a growing pause."""
MAX_BACKOFF_S = 900.0
QUOTA_RESET_MARGIN_S = 60.0
"""After midnight US Central, a minute more: Marketo's clock and ours need not agree to the second."""

Wait = Callable[[float, str], None]
"""Spends the pause between passes: ``(seconds, why)``."""


def seconds_to_quota_reset(now: datetime) -> float:
    """Seconds from ``now`` to the next midnight US Central (when Marketo's daily quotas reset), plus a margin."""
    local = now.astimezone(MARKETO_DAY_ZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), clock_time(0), tzinfo=MARKETO_DAY_ZONE)
    return (midnight - now).total_seconds() + QUOTA_RESET_MARGIN_S


@dataclass
class FollowLoop:
    """Runs ``one_pass`` until a failure that is not the world's, or ``stop``."""

    one_pass: Callable[[], None]
    interval_seconds: float
    progress: Progress
    marketo_now: Callable[[], datetime] = lambda: datetime.now(UTC)
    """Marketo's clock as last seen (for the quota reset)."""
    wait: Wait | None = None
    """The pause between passes; ``None``: sleep (interruptibly)."""
    failures: int = 0
    _stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stopped.is_set():
            with logs.run():  # each pass is a run of its own: its lines, its summary, its failure share one id
                seconds, why = self._pass()
            self.progress.step(f"next pass in {seconds:.0f}s ({why})")
            (self.wait or self.sleep)(seconds, why)

    def _pass(self) -> tuple[float, str]:
        """Runs one pass; returns how long to pause after it and why."""
        try:
            self.one_pass()
        except Exception as exc:
            status, message = outcome(exc)
            if status == ExitStatus.QUOTA:
                self.failures = 0
                log.error("pass stopped: Marketo's daily quota is spent (%s); waiting for its reset", message)
                seconds = max(self.interval_seconds, seconds_to_quota_reset(self.marketo_now()))
                return seconds, "Marketo's daily quota resets at midnight US Central"
            if status not in TRANSIENT:
                raise
            self.failures += 1
            log.error("pass failed (exit status %d would end a one-shot run): %s", status, message)
            pause = self.interval_seconds
            seconds = min(pause * 2 ** (self.failures - 1), max(pause, MAX_BACKOFF_S))
            return seconds, f"retrying after {self.failures} failed pass(es) in a row"
        self.failures = 0
        return self.interval_seconds, "the follow interval"

    def sleep(self, seconds: float, why: str) -> None:
        """Sleeps, shown as waiting; a signal (its handler raises) or ``stop`` ends it at once."""
        with self.progress.waiting(seconds, f"next pass: {why}"):
            self._stopped.wait(seconds)

    def stop(self) -> None:
        """Ends the loop after the current pass (or at once, during a pause)."""
        self._stopped.set()
