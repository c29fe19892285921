"""Our share of the instance's call limits, kept before Marketo has to refuse us.

Marketo's limits (100 calls per 20 s, 10 in flight, about 50,000 a day) belong to the whole instance,
shared with every other integration. We stay under a configurable share: a moving window (80 per 20 s by
default), a bound on calls in flight (5), and optionally a daily budget that counts everybody's calls
as ``stats/usage.json`` reports them, re-read every few hundred of our calls. Marketo's own 606/615/607
still happen when others are busy; the code table handles those.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from marketo_stream.marketo.clock import Clock
from marketo_stream.marketo.errors import QuotaExceeded


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    calls_per_window: int = 80
    window_seconds: float = 20.0
    max_concurrency: int = 5
    daily_calls: int | None = None
    """Stop before the instance's calls today (everyone's, from stats/usage) reach this; None: no check."""
    usage_refresh_calls: int = 250
    """Re-read stats/usage after this many of our calls."""

    def __post_init__(self) -> None:
        if self.calls_per_window < 1 or self.window_seconds <= 0 or self.max_concurrency < 1:
            raise ValueError("call budget limits must be positive")


class CallBudget:
    """Blocks until a call fits the window and the concurrency bound; refuses when the day is spent."""

    def __init__(self, limits: BudgetLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.max_concurrency)
        self._recent: deque[float] = deque()
        self._usage_reader: Callable[[], int] | None = None
        self._usage_total: int | None = None
        self._since_usage = 0

    def read_usage_with(self, reader: Callable[[], int]) -> None:
        """``reader`` returns today's instance-wide call count; it must not pass through this budget."""
        self._usage_reader = reader

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold one call's place in the window and among the calls in flight."""
        self._check_daily()
        self._wait_for_window()
        with self._slots:
            yield

    def recent_calls(self) -> tuple[float, list[float]]:
        """(now, our calls within the window), in epoch seconds: what the next process needs to know of this one
        to keep the instance's window (``assume_recent``)."""
        with self._lock:
            mono, wall = self._clock.monotonic(), self._clock.now().timestamp()
            cutoff = mono - self.limits.window_seconds
            return round(wall, 3), [round(wall - (mono - at), 3) for at in self._recent if at > cutoff]

    def assume_recent(self, calls: Iterable[float], told_at: float | None) -> None:
        """Counts an earlier process's calls (epoch seconds) against this window: Marketo's window is the
        instance's, and a process killed a second ago may have filled it. ``told_at``: when it last told them, if it
        may have gone on calling after (it did not end cleanly); those unknown calls are taken to have come at the
        budget's pace from then to now (start slow, then ramp up as they expire); Marketo's headroom above our share
        covers a burst."""
        limit, window = self.limits.calls_per_window, self.limits.window_seconds
        with self._lock:
            mono, wall = self._clock.monotonic(), self._clock.now().timestamp()
            stamps = [at for at in calls if wall - window < at <= wall]
            if told_at is not None and wall - window < told_at < wall:
                step, at = window / limit, max(told_at, wall - window)
                while (at := at + step) <= wall and len(stamps) < limit:
                    stamps.append(at)
            stamps = sorted(stamps)[-limit:]
            self._recent = deque(sorted([*self._recent, *(mono - (wall - at) for at in stamps)]))

    def _wait_for_window(self) -> None:
        limit, window = self.limits.calls_per_window, self.limits.window_seconds
        while True:
            with self._lock:
                now = self._clock.monotonic()
                while self._recent and self._recent[0] <= now - window:
                    self._recent.popleft()
                if len(self._recent) < limit:
                    self._recent.append(now)
                    self._since_usage += 1
                    return
                wait = self._recent[0] + window - now
            self._clock.sleep(wait)

    def _check_daily(self) -> None:
        daily = self.limits.daily_calls
        if daily is None:
            return
        with self._lock:
            stale = self._usage_total is None or self._since_usage >= self.limits.usage_refresh_calls
        if stale and self._usage_reader is not None:
            self._refuse_if_spent(daily)  # the figure only grows: no need to spend a call re-reading it
            total = self._usage_reader()
            with self._lock:
                self._usage_total, self._since_usage = total, 1  # the read itself was a call
        self._refuse_if_spent(daily)

    def _refuse_if_spent(self, daily: int) -> None:
        with self._lock:
            used = (self._usage_total or 0) + self._since_usage
        if used >= daily:
            raise QuotaExceeded("607", f"daily call budget of {daily} reached: {used} calls today across the instance")
