"""Time as a dependency: rate windows, token expiry, backoff and polling all ask a ``Clock``.

Injecting it lets tests drive hours of waiting (rate windows, quota resets, job timeouts) without
sleeping, and keeps every wait in the code visible as a call to ``clock.sleep``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

MARKETO_DAY_ZONE = ZoneInfo("America/Chicago")
"""Marketo's daily call quota and export quota reset at midnight US Central."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def marketo_day(instant: datetime) -> date:
    """The quota day an instant falls in (days start at midnight US Central)."""
    return instant.astimezone(MARKETO_DAY_ZONE).date()
