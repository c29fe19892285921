"""The rows of an export: what the world holds for an ExportSpec at the moment the job starts processing."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any

from marketo_stream.sandbox.bulk import csvfile
from marketo_stream.sandbox.bulk.requests import ACTIVITY_FIELDS, ExportSpec
from marketo_stream.sandbox.timefmt import iso_date, iso_z
from marketo_stream.sandbox.world.events import Activity
from marketo_stream.sandbox.world.world import World


def rows(spec: ExportSpec, world: World, as_of: float) -> Iterator[list[object]]:
    if spec.kind == "activities":
        return _activities(spec, world, as_of)
    if spec.kind == "leads":
        return _leads(spec, world, as_of)
    if spec.kind == "program_members":
        return _program_members(spec, world, as_of)
    return _custom_objects(spec, world, as_of)


def activity_record(activity: Activity) -> dict[str, Any]:
    """An activity with the bulk export's default fields, ``attributes`` as a dict of the non-empty ones."""
    event = activity.event
    return {
        "marketoGUID": str(activity.guid),
        "leadId": event.lead,
        "activityDate": iso_z(event.t),
        "activityTypeId": event.type_id,
        "campaignId": event.campaign,
        "primaryAttributeValueId": event.primary_id,
        "primaryAttributeValue": event.primary_value,
        "attributes": {k: v for k, v in event.attributes.items() if v is not None},
    }


def activity_line(activity: Activity) -> bytes:
    """The activity's line in a CSV export of the default fields, as ``rows`` and ``csvfile.write`` make it."""
    record = activity_record(activity)
    return csvfile.line([record[f] for f in ACTIVITY_FIELDS], ",").encode("utf-8")


_CELL = rb'("[^"]*(?:""[^"]*)*"|[^,"\n]*)'
_DEFAULT_LINE = re.compile(_CELL + rb"," + rb",".join([_CELL] * (len(ACTIVITY_FIELDS) - 1)) + rb"\n")
"""A prepared line (the default fields, CSV): one group per cell as written, quotes and embedded line ends kept."""
_ACTION_RESULT = (b"succeeded",)
"""``actionResult`` of every sandbox activity, as the plain path renders it."""


def prepared_lines(spec: ExportSpec, world: World, as_of: float) -> Iterator[tuple[bytes, int]] | None:
    """An activity export's lines selected from the prepared log, when there is one and the export is CSV; None
    otherwise. The prepared lines hold the default fields; any other choice or order of fields is read from a view
    of them rewritten once by ``reshaper``."""
    prepared = world.log.prepared
    if prepared is None or spec.kind != "activities" or spec.file_format != "CSV":
        return None
    if spec.fields != ACTIVITY_FIELDS:
        prepared = prepared.view(",".join(spec.fields), reshaper(spec.fields))
    assert spec.dates is not None
    raw = spec.filter
    return prepared.lines(
        spec.dates.start,
        spec.dates.end,
        as_of,
        spec.type_ids,
        raw.get("primaryAttributeValueIds"),
        raw.get("primaryAttributeValues"),
    )


def reshaper(fields: tuple[str, ...]) -> Callable[[bytes], list[bytes]]:
    """Lines of the default fields -> the same lines with ``fields`` (any subset, any order, ``actionResult`` too),
    without their line ends.

    A cell is written the same wherever it stands in a line (``csvfile.line`` quotes cell by cell), so moving the
    written cells gives the bytes the plain path writes. The cells are split by one regular expression over a
    whole chunk and put back by ``itemgetter`` and ``bytes.join``, with no Python code run per row."""
    positions = [ACTIVITY_FIELDS.index(f) if f in ACTIVITY_FIELDS else len(ACTIVITY_FIELDS) for f in fields]
    pick = operator.itemgetter(*positions)
    with_action = len(ACTIVITY_FIELDS) in positions

    def reshape(data: bytes) -> list[bytes]:
        cells: Iterator[tuple[bytes, ...]] = iter(_DEFAULT_LINE.findall(data))
        if with_action:
            cells = map(operator.add, cells, repeat(_ACTION_RESULT))
        return list(map(pick, cells)) if len(positions) == 1 else list(map(b",".join, map(pick, cells)))

    return reshape


def _activities(spec: ExportSpec, world: World, as_of: float) -> Iterator[list[object]]:
    assert spec.dates is not None
    by_id = spec.filter.get("primaryAttributeValueIds")
    by_value = spec.filter.get("primaryAttributeValues")
    for activity in world.log.dated(spec.dates.start, spec.dates.end, as_of, spec.type_ids):
        event = activity.event
        if by_id is not None and event.primary_id not in by_id:
            continue
        if by_value is not None and event.primary_value not in by_value:
            continue
        values = {**activity_record(activity), "actionResult": "succeeded"}
        yield [values[f] for f in spec.fields]


def lead_value(world: World, raw: dict[str, Any], name: str) -> object:
    value = world.lead_fields.value(raw, name)
    kind = world.lead_fields.by_name[name].data_type
    if value is not None and kind == "datetime":
        return iso_z(value)
    if value is not None and kind == "date":
        return iso_date(value)
    return value


def lead_getter(world: World, name: str) -> Callable[[dict[str, Any]], object]:
    """``lead_value`` for one field, with the field's kind looked up once per export rather than once per row."""
    return _lead_conversion(world, name) or (lambda raw: raw.get(name))


def _lead_conversion(world: World, name: str) -> Callable[[dict[str, Any]], object] | None:
    """``lead_value`` for a field whose value is not simply ``raw.get(name)`` (times, fields added at run time);
    None for the others."""
    if name in world.lead_fields.added:
        return lambda raw: lead_value(world, raw, name)
    kind = world.lead_fields.by_name[name].data_type
    if kind == "datetime":
        return lambda raw: None if (value := raw.get(name)) is None else iso_z(value)
    if kind == "date":
        return lambda raw: None if (value := raw.get(name)) is None else iso_date(value)
    return None


def _in_range(spec: ExportSpec, when: float) -> bool:
    return spec.dates is None or spec.dates.start <= when <= spec.dates.end


def _list_members(spec: ExportSpec, world: World, as_of: float) -> set[int] | None:
    raw = spec.filter
    if "staticListId" in raw:
        list_id = int(raw["staticListId"])
    elif "staticListName" in raw:
        found = [a.id for a in world.assets.lists if a.name == raw["staticListName"]]
        list_id = found[0] if found else -1
    else:
        return None
    return set(world.snapshot(as_of).list_members.get(list_id, {}))


def _leads(spec: ExportSpec, world: World, as_of: float) -> Iterator[list[object]]:
    snap = world.snapshot(as_of)
    members = _list_members(spec, world, as_of)
    names = list(spec.fields)
    fixes = [(i, fix) for i, name in enumerate(names) if (fix := _lead_conversion(world, name)) is not None]
    for lead_id, raw in snap.leads.items():
        if members is not None and lead_id not in members:
            continue
        if spec.date_field and not _in_range(spec, raw[spec.date_field]):
            continue
        row: list[object] = list(map(raw.get, names))  # every field is raw.get(name) but the fixes
        for i, fix in fixes:
            row[i] = fix(raw)
        yield row


def _program_members(spec: ExportSpec, world: World, as_of: float) -> Iterator[list[object]]:
    snap = world.snapshot(as_of)
    raw_filter = spec.filter
    statuses = raw_filter.get("statusNames")
    getters = [program_member_getter(world, f) for f in spec.fields]
    for (lead_id, program_id), member in snap.program_members.items():
        if program_id not in spec.program_ids or not _in_range(spec, member["updatedAt"]):
            continue
        if statuses and member["statusName"] not in statuses:
            continue
        if raw_filter.get("isExhausted") is True:
            continue
        cadence = raw_filter.get("nurtureCadence")
        if cadence and (member["nurtureCadence"] or "")[:4] != str(cadence)[:4]:
            continue
        lead = snap.leads[lead_id]
        row = [get(member, lead) for get in getters]
        yield [program_id, *row] if spec.prepend_program_id else row


def program_member_value(member: dict[str, Any], world: World, lead: dict[str, Any], name: str) -> object:
    if name == "program":
        return world.assets.program_name(member["programId"])
    if name in ("membershipDate", "reachedSuccessDate", "updatedAt", "createdAt"):
        value = member.get(name)
        return iso_z(value) if value is not None else None
    if name == "isExhausted":
        return False
    if name in member:
        return member[name]
    if name in world.lead_fields.by_name:
        return lead_value(world, lead, name)
    return None


def program_member_getter(world: World, name: str) -> Callable[[dict[str, Any], dict[str, Any]], object]:
    """``program_member_value`` for one field, decided once per export where the member's keys allow it."""
    if name in ("program", "membershipDate", "reachedSuccessDate", "updatedAt", "createdAt", "isExhausted"):
        return lambda member, lead: program_member_value(member, world, lead, name)
    if name in world.lead_fields.by_name:
        from_lead = lead_getter(world, name)
        return lambda member, lead: member[name] if name in member else from_lead(lead)
    return lambda member, lead: member.get(name)


def _custom_objects(spec: ExportSpec, world: World, as_of: float) -> Iterator[list[object]]:
    members = _list_members(spec, world, as_of)
    for car in world.cars_at(as_of):
        if members is not None and car["leadId"] not in members:
            continue
        if spec.date_field and not _in_range(spec, car["updatedAt"]):
            continue
        yield [iso_z(car[f]) if f in ("createdAt", "updatedAt") else car[f] for f in spec.fields]
