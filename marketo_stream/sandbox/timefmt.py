"""Marketo's several timestamp spellings, to and from epoch seconds (the sandbox's one internal time unit)."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
DAY = 86_400
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LAST_DAY = 2_932_896  # 9999-12-31: beyond it (and before 1970) the stdlib spells the date


class BadTimestamp(ValueError):
    """A timestamp the API cannot read; handlers answer it with Marketo's code 704/1003."""


def iso_z(epoch: float) -> str:
    """REST style: ``2026-01-01T10:00:00Z`` (no milliseconds, as Marketo writes them).

    Every export row and REST record spells several of these, so the date part comes from a small cache of days.
    """
    days, second = divmod(int(epoch), DAY)
    if not 0 <= days <= _LAST_DAY:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{_day_text(days)}T{hour:02d}:{minute:02d}:{second:02d}Z"


@functools.lru_cache(maxsize=8192)
def _day_text(days: int) -> str:
    return (_EPOCH + dt.timedelta(days=days)).strftime("%Y-%m-%d")


def iso_asset(epoch: float) -> str:
    """Asset API style, which carries both ``Z`` and ``+0000``."""
    return iso_z(epoch) + "+0000"


def iso_date(epoch: float) -> str:
    days = int(epoch) // DAY
    if not 0 <= days <= _LAST_DAY:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%d")
    return _day_text(days)


def parse(text: str) -> float:
    """Reads ISO-8601 with ``Z``, an offset, the asset ``Z+0000`` form or a bare date; no offset means GMT."""
    value = text.strip()
    if value.endswith("Z+0000"):
        value = value[:-5]
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit() and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadTimestamp(text) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def chicago_day(epoch: float) -> dt.date:
    """The Central-time calendar day, which is when Marketo's daily quotas reset."""
    return dt.datetime.fromtimestamp(epoch, CHICAGO).date()
