"""``stats/usage.json`` and ``stats/errors.json`` (and their last-7-days forms), from the calls actually counted."""

from __future__ import annotations

import collections
import datetime as dt
import re
from typing import Any

from marketo_stream.sandbox.envelope import success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import chicago_day


def routes(state: SandboxState) -> Router:
    router = Router()

    def days(match: re.Match[str]) -> list[dt.date]:
        today = chicago_day(state.clock.now())
        span = 7 if match["last7"] else 1
        return [today - dt.timedelta(days=n) for n in range(span)]

    def usage(request: Request, match: re.Match[str]) -> Response:
        result = [_day(day, state.limits.usage.get(day), "users", "userId") for day in days(match)]
        return Response.json(success(result))

    def errors(request: Request, match: re.Match[str]) -> Response:
        result = [_day(day, state.limits.errors.get(day), "errors", "errorCode") for day in days(match)]
        return Response.json(success(result))

    router.add("GET", r"/rest/v1/stats/usage(?P<last7>/last7days)?\.json", usage)
    router.add("GET", r"/rest/v1/stats/errors(?P<last7>/last7days)?\.json", errors)
    return router


def _day(day: dt.date, counts: collections.Counter[str] | None, key: str, name: str) -> dict[str, Any]:
    counts = counts or collections.Counter()
    items = [{name: who, "count": n} for who, n in sorted(counts.items())]
    return {"date": day.isoformat(), "total": sum(counts.values()), key: items}
