"""What the sync engine asks of Bulk Extract: one export, named by a label that survives restarts.

The label is the key under which the caller keeps the export id, so a restarted run finds the job it
already started instead of creating (and paying for) a new one. A request whose job keeps failing can
be split in two along its date filter (Marketo's ``createdAt``/``updatedAt`` ranges are inclusive at
both ends, so the halves are ``[start, mid - 1 s]`` and ``[mid, end]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from marketo_stream.intervals import Interval, format_instant, parse_instant

ExportKind = Literal["leads", "activities", "program_members", "custom_object"]

_BASE_PATHS: dict[str, str] = {
    "leads": "/bulk/v1/leads/export",
    "activities": "/bulk/v1/activities/export",
    "program_members": "/bulk/v1/program/members/export",
}
DATE_FILTERS = ("createdAt", "updatedAt")


def date_span(window: Interval) -> dict[str, str]:
    """The date filter value (``createdAt``/``updatedAt``) covering ``window``: our intervals are half-open and
    Marketo's ranges inclusive at both ends, so the range ends one second before the interval does."""
    return {"startAt": format_instant(window.start), "endAt": format_instant(window.end - timedelta(seconds=1))}


@dataclass(frozen=True)
class ExportRequest:
    kind: ExportKind
    fields: tuple[str, ...]
    """Field API names; may be empty for activities (Marketo's default columns)."""
    filter: Mapping[str, Any]
    label: str
    """Stable id for state, e.g. ``activities:2026-11-01..2026-11-08``."""
    object_name: str | None = None
    """The custom object's API name (``kind == "custom_object"`` only)."""
    column_header_names: Mapping[str, str] = field(default_factory=dict)
    part_of: str | None = None
    """Label of the request this one was split from, if any."""

    def __post_init__(self) -> None:
        if self.kind not in (*_BASE_PATHS, "custom_object"):
            raise ValueError(f"unknown export kind {self.kind!r}")
        if (self.kind == "custom_object") != bool(self.object_name):
            raise ValueError("object_name is required for custom_object exports, and only for them")

    @property
    def base_path(self) -> str:
        """``/bulk/v1/<object>/export``; job paths hang below it."""
        if self.kind == "custom_object":
            return f"/bulk/v1/customobjects/{self.object_name}/export"
        return _BASE_PATHS[self.kind]

    @property
    def family(self) -> str:
        """Jobs of one family share a list endpoint and have comparable file sizes."""
        return self.base_path

    def create_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"format": "CSV", "filter": dict(self.filter)}
        if self.fields:
            body["fields"] = list(self.fields)
        if self.column_header_names:
            body["columnHeaderNames"] = dict(self.column_header_names)
        return body

    def window(self) -> tuple[str, datetime, datetime] | None:
        """The date filter's name and inclusive range, if the request has one."""
        for name in DATE_FILTERS:
            span = self.filter.get(name)
            if isinstance(span, Mapping) and "startAt" in span and "endAt" in span:
                return name, parse_instant(str(span["startAt"])), parse_instant(str(span["endAt"]))
        return None

    def window_seconds(self) -> float | None:
        found = self.window()
        return (found[2] - found[1]).total_seconds() + 1 if found else None

    def split(self, min_seconds: float = 2.0) -> tuple[ExportRequest, ExportRequest] | None:
        """Two requests covering this one's date range, or None when it has none or is too short."""
        found = self.window()
        if found is None:
            return None
        name, start, end = found
        span = (end - start).total_seconds() + 1
        if span < max(2.0, min_seconds):
            return None
        mid = start + timedelta(seconds=int(span // 2))
        halves = ((start, mid - timedelta(seconds=1)), (mid, end))
        root = self.part_of or self.label
        return (
            self._with_window(name, *halves[0], label=f"{self.label}/1", root=root),
            self._with_window(name, *halves[1], label=f"{self.label}/2", root=root),
        )

    def _with_window(self, name: str, start: datetime, end: datetime, *, label: str, root: str) -> ExportRequest:
        new_filter = dict(self.filter)
        new_filter[name] = {"startAt": format_instant(start), "endAt": format_instant(end)}
        return replace(self, filter=new_filter, label=label, part_of=root)
