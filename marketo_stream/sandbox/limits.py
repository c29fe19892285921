"""Marketo's REST call limits: a rolling rate window, a concurrency ceiling and a daily quota, all per instance.

Daily counts are kept per Central-time day of the simulated clock (Marketo resets quotas at midnight US Central),
per API user, with the error codes answered, because ``stats/usage.json`` and ``stats/errors.json`` report them.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from marketo_stream.sandbox.clock import SimClock
from marketo_stream.sandbox.envelope import MESSAGES, UNCOUNTED_CODES, ApiError
from marketo_stream.sandbox.timefmt import chicago_day


class CallLimits:
    def __init__(self, clock: SimClock, *, calls: int, window_seconds: float, concurrency: int, daily: int) -> None:
        self._clock = clock
        self._calls = calls
        self._window = window_seconds
        self._concurrency = concurrency
        self._daily = daily
        self._lock = threading.Lock()
        self._recent: collections.deque[float] = collections.deque()
        self._in_flight = 0
        self.usage: dict[dt.date, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.errors: dict[dt.date, collections.Counter[str]] = collections.defaultdict(collections.Counter)

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Holds one of the concurrent slots for the duration of a call; 615 when none is free."""
        with self._lock:
            if self._in_flight >= self._concurrency:
                raise ApiError("615", MESSAGES["615"].format(limit=self._concurrency))
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def admit(self) -> None:
        """Raises 607 when today's quota is spent, 606 when the rolling window is full."""
        today = chicago_day(self._clock.now())
        with self._lock:
            if sum(self.usage[today].values()) >= self._daily:
                raise ApiError("607")
            self._trim()
            if len(self._recent) >= self._calls:
                seconds = f"{self._window:g}"
                raise ApiError("606", MESSAGES["606"].format(calls=self._calls, seconds=seconds))

    def record(self, user: str, code: str | None) -> bool:
        """Counts a finished call unless its answer is one Marketo does not count; says whether it counted."""
        today = chicago_day(self._clock.now())
        with self._lock:
            if code:
                self.errors[today][code] += 1
            if code in UNCOUNTED_CODES:
                return False
            self._recent.append(self._clock.window_seconds())
            self.usage[today][user] += 1
            return True

    def calls_in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def counted_today(self) -> int:
        with self._lock:
            return sum(self.usage[chicago_day(self._clock.now())].values())

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self.usage.clear()
            self.errors.clear()

    def _trim(self) -> None:
        horizon = self._clock.window_seconds() - self._window
        while self._recent and self._recent[0] <= horizon:
            self._recent.popleft()
