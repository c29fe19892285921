"""The simulated clock every Marketo rule in the sandbox reads, so tests can skip hours in a call.

Simulated now = start + speed x (real seconds since start) + explicit advances. A speed of 0 freezes the world
between advances (what tests want); 1 lets it run with the wall clock (what a demo wants).

Rate and concurrency windows run on a second timeline, ``window_seconds()``, that always moves with real time
*and* with advances: a client that really sleeps 20 s after a 606 gets through, and so does a test that advances
the clock instead of sleeping.
"""

from __future__ import annotations

import threading
import time


class ClockError(ValueError):
    """The clock cannot move that way (the world only moves forward)."""


class SimClock:
    def __init__(self, start: float, speed: float = 0.0) -> None:
        self._start = float(start)
        self._speed = speed
        self._real_origin = time.monotonic()
        self._advanced = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._start + self._advanced + self._speed * (time.monotonic() - self._real_origin)

    def window_seconds(self) -> float:
        with self._lock:
            return time.monotonic() + self._advanced

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        with self._lock:
            self._advanced += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        return self.advance(epoch - self.now())
