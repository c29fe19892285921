"""Export create requests: validated as Marketo validates them, into an ExportSpec that can produce the rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from marketo_stream.sandbox.envelope import ApiError
from marketo_stream.sandbox.timefmt import DAY, BadTimestamp, parse
from marketo_stream.sandbox.world import catalog

ACTIVITY_FIELDS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
)
PROGRAM_MEMBER_FIELDS = (
    "acquiredBy",
    "attendanceLikelihood",
    "createdAt",
    "isExhausted",
    "leadId",
    "membershipDate",
    "nurtureCadence",
    "program",
    "programId",
    "reachedSuccess",
    "reachedSuccessDate",
    "registrationLikelihood",
    "statusName",
    "statusReason",
    "trackName",
    "updatedAt",
    "waitlistPriority",
)
CAR_FIELDS = ("marketoGUID", "leadId", "vin", "make", "model", "color", "year", "createdAt", "updatedAt")
LEAD_FILTERS = ("createdAt", "updatedAt", "staticListId", "staticListName", "smartListId", "smartListName")


@dataclasses.dataclass(frozen=True)
class DateRange:
    start: float
    end: float


@dataclasses.dataclass(frozen=True)
class ExportSpec:
    kind: str  # leads | activities | program_members | customobject
    object_name: str
    file_format: str
    fields: tuple[str, ...]
    headers: tuple[str, ...]
    filter: dict[str, Any]
    dates: DateRange | None = None
    date_field: str | None = None
    type_ids: frozenset[int] | None = None
    program_ids: tuple[int, ...] = ()
    prepend_program_id: bool = False


def parse_request(
    kind: str,
    object_name: str,
    body: dict[str, Any],
    *,
    max_days: int,
    updated_at_ok: bool,
    lead_fields: Collection[str],
) -> ExportSpec:
    file_format = str(body.get("format") or "CSV").upper()
    if file_format not in ("CSV", "TSV", "SSV"):
        raise ApiError("1003", f"Invalid format '{body.get('format')}'")
    raw_filter = body.get("filter")
    if not isinstance(raw_filter, dict) or not raw_filter:
        raise ApiError("1003", "filter is required")
    fields = _fields(kind, body.get("fields"), lead_fields)
    renames = body.get("columnHeaderNames") or {}
    if not isinstance(renames, dict) or set(renames) - set(fields):
        raise ApiError("1003", "columnHeaderNames must only name fields included in the export")
    headers = tuple(str(renames.get(f, f)) for f in fields)
    spec = ExportSpec(kind, object_name, file_format, fields, headers, raw_filter)
    if kind == "activities":
        return _activities(spec, raw_filter, max_days)
    if kind == "leads":
        return _leads(spec, raw_filter, max_days, updated_at_ok)
    if kind == "program_members":
        return _program_members(spec, raw_filter, max_days, updated_at_ok)
    return _custom_object(spec, raw_filter, max_days)


def _fields(kind: str, raw: Any, lead_fields: Collection[str]) -> tuple[str, ...]:
    if kind == "activities" and not raw:
        return ACTIVITY_FIELDS
    if not isinstance(raw, list) or not raw or not all(isinstance(f, str) for f in raw):
        raise ApiError("1003", "fields is required")
    allowed: set[str] = {
        "activities": {*ACTIVITY_FIELDS, "actionResult"},
        "leads": set(lead_fields),
        "program_members": {*PROGRAM_MEMBER_FIELDS, *lead_fields},
        "customobject": set(CAR_FIELDS),
    }[kind]
    unknown = [f for f in raw if f not in allowed]
    if unknown:
        raise ApiError("1003", f"Invalid field(s): {', '.join(unknown)}")
    return tuple(raw)


def _range(raw: Any, name: str, max_days: int) -> DateRange:
    if not isinstance(raw, dict) or "startAt" not in raw or "endAt" not in raw:
        raise ApiError("1003", f"{name} filter requires startAt and endAt")
    try:
        start, end = parse(str(raw["startAt"])), parse(str(raw["endAt"]))
    except BadTimestamp as exc:
        raise ApiError("1003", f"Invalid date format in {name} filter: {exc}") from exc
    if end < start:
        raise ApiError("1003", f"{name} endAt is before startAt")
    if end - start > max_days * DAY:
        raise ApiError("1003", f"Date range of {name} filter exceeds the maximum of {max_days} days")
    return DateRange(start, end)


def _activities(spec: ExportSpec, raw: dict[str, Any], max_days: int) -> ExportSpec:
    if "createdAt" not in raw:
        raise ApiError("1003", "createdAt filter is required for activity exports")
    dates = _range(raw["createdAt"], "createdAt", max_days)
    type_ids = None
    if raw.get("activityTypeIds") is not None:
        ids = raw["activityTypeIds"]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ApiError("1003", "activityTypeIds must be a list of integers")
        if 37 in ids:
            raise ApiError("1003", "Activity type 37 (Delete Lead) is not supported by bulk export")
        unknown = [i for i in ids if i not in catalog.BY_ID]
        if unknown:
            raise ApiError("1003", f"Invalid activity type id(s): {unknown}")
        type_ids = frozenset(ids)
    by_id, by_value = raw.get("primaryAttributeValueIds"), raw.get("primaryAttributeValues")
    if by_id is not None and by_value is not None:
        raise ApiError("1003", "primaryAttributeValueIds and primaryAttributeValues are mutually exclusive")
    if (by_id is not None or by_value is not None) and type_ids is None:
        raise ApiError("1003", "primary attribute filters require activityTypeIds")
    for values in (by_id, by_value):
        if values is not None and (not isinstance(values, list) or len(values) > 50):
            raise ApiError("1003", "at most 50 primary attribute values are allowed")
    return dataclasses.replace(spec, dates=dates, date_field="createdAt", type_ids=type_ids)


def _leads(spec: ExportSpec, raw: dict[str, Any], max_days: int, updated_at_ok: bool) -> ExportSpec:
    present = [k for k in LEAD_FILTERS if k in raw]
    if len(present) != 1 or set(raw) - set(LEAD_FILTERS):
        raise ApiError("1003", f"exactly one filter of {', '.join(LEAD_FILTERS)} is required")
    name = present[0]
    if name.startswith("smartList") or (name == "updatedAt" and not updated_at_ok):
        raise ApiError("1035")
    if name in ("createdAt", "updatedAt"):
        return dataclasses.replace(spec, dates=_range(raw[name], name, max_days), date_field=name)
    return spec


def _program_members(spec: ExportSpec, raw: dict[str, Any], max_days: int, updated_at_ok: bool) -> ExportSpec:
    if ("programId" in raw) == ("programIds" in raw):
        raise ApiError("1003", "exactly one of programId or programIds is required")
    ids = [raw["programId"]] if "programId" in raw else raw["programIds"]
    if not isinstance(ids, list) or not ids or len(ids) > 10 or not all(isinstance(i, int) for i in ids):
        raise ApiError("1003", "programIds must be 1 to 10 integers")
    spec = dataclasses.replace(spec, program_ids=tuple(ids), prepend_program_id="programIds" in raw)
    if spec.prepend_program_id:
        spec = dataclasses.replace(spec, headers=("programId", *spec.headers))
    if "updatedAt" in raw:
        if not updated_at_ok:
            raise ApiError("1035")
        spec = dataclasses.replace(spec, dates=_range(raw["updatedAt"], "updatedAt", max_days), date_field="updatedAt")
    return spec


def _custom_object(spec: ExportSpec, raw: dict[str, Any], max_days: int) -> ExportSpec:
    if "updatedAt" in raw:
        return dataclasses.replace(spec, dates=_range(raw["updatedAt"], "updatedAt", max_days), date_field="updatedAt")
    if "staticListId" in raw or "staticListName" in raw:
        return spec
    if "smartListId" in raw or "smartListName" in raw:
        raise ApiError("1035")
    raise ApiError("1003", "one filter of updatedAt, staticListId or staticListName is required")
