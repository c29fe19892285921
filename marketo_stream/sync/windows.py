"""Bulk Extract requests over a date window, built in one place for activities, leads and custom objects.

Our windows are half-open ``[start, end)``; Marketo's date filters are inclusive at both ends with a precision of
one second, so a window is asked for as ``[start, end - 1 s]`` (``bulk.request.date_span``) and read back from a
request by adding the second again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from marketo_stream.bulk.request import ExportKind, ExportRequest, date_span
from marketo_stream.intervals import Interval

ONE_SECOND = timedelta(seconds=1)


def window_request(
    kind: ExportKind,
    window: Interval,
    *,
    label: str,
    date_field: str = "createdAt",
    fields: Iterable[str] = (),
    object_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ExportRequest:
    """An export of ``kind`` for ``window`` on ``date_field``, with ``extra`` filters beside the window."""
    return ExportRequest(
        kind=kind,
        fields=tuple(fields),
        filter={date_field: date_span(window), **(extra or {})},
        label=label,
        object_name=object_name,
    )


def request_window(request: ExportRequest) -> Interval:
    """The half-open window a request asks for."""
    found = request.window()
    if found is None:
        raise ValueError(f"export {request.label} has no date window")
    _, start, end = found
    return Interval(start, end + ONE_SECOND)
