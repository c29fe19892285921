"""Lead database reads: describe, describe2, schema fields, one lead, leads by filter, list and program members."""

from __future__ import annotations

import re
from typing import Any

from marketo_stream.sandbox import paging
from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import iso_z
from marketo_stream.sandbox.world import views
from marketo_stream.sandbox.world.fields import SEARCHABLE, LeadField

DEFAULT_FIELDS = ["id", "email", "updatedAt", "createdAt", "firstName", "lastName"]


def describe(lead_fields: tuple[LeadField, ...]) -> list[dict[str, Any]]:
    result = []
    for f in lead_fields:
        item: dict[str, Any] = {"id": f.id, "displayName": f.display, "dataType": f.data_type}
        if f.length:
            item["length"] = f.length
        item["rest"] = {"name": f.name, "readOnly": not f.updateable}
        item["soap"] = {"name": f.name[:1].upper() + f.name[1:], "readOnly": not f.updateable}
        result.append(item)
    return result


def routes(state: SandboxState) -> Router:
    router = Router()
    world = state.world

    def fields_of(request: Request) -> list[str]:
        fields = request.get_list("fields") or DEFAULT_FIELDS
        unknown = [f for f in fields if f not in world.lead_fields.by_name]
        if unknown:
            raise ApiError("1006", f"Field '{unknown[0]}' not found")
        return fields

    def describe_leads(request: Request, _: re.Match[str]) -> Response:
        return Response.json(success(describe(world.lead_fields.all)))

    def describe2(request: Request, _: re.Match[str]) -> Response:
        fields = [
            {"name": f.name, "displayName": f.display, "dataType": f.data_type, "length": f.length,
             "updateable": f.updateable, "crmManaged": False}
            for f in world.lead_fields.all
        ]  # fmt: skip
        searchable = [[name] for name in SEARCHABLE]
        return Response.json(success([{"name": "API Lead", "searchableFields": searchable, "fields": fields}]))

    def schema_fields(request: Request, _: re.Match[str]) -> Response:
        items = [
            {"displayName": f.display, "name": f.name, "description": f.display, "dataType": f.data_type,
             "length": f.length, "isHidden": False, "isHtmlEncodingInEmail": f.data_type == "text",
             "isSensitive": False, "isCustom": f.custom, "isApiCreated": f.custom}
            for f in world.lead_fields.all
        ]  # fmt: skip
        chosen, extra = paging.page(
            items, request.get("nextPageToken"), paging.batch_size(request.get_int("batchSize", 300))
        )
        return Response.json(success(chosen, **extra))

    def one_lead(request: Request, match: re.Match[str]) -> Response:
        raw = world.snapshot(state.clock.now()).leads.get(int(match["id"]))
        return Response.json(success([world.rest_lead(raw, fields_of(request))] if raw else []))

    def by_filter(request: Request, _: re.Match[str]) -> Response:
        filter_type = request.get("filterType") or ""
        values = request.get_list("filterValues")
        if not filter_type or not values:
            raise ApiError("1003", "filterType and filterValues are required")
        if filter_type not in SEARCHABLE:
            raise ApiError("1011", f"Lookup field '{filter_type}' not supported")
        if len(values) > 300:
            raise ApiError("1003", "filterValues accepts at most 300 values")
        fields = fields_of(request)
        t = state.clock.now()
        leads = world.snapshot(t).leads
        if filter_type == "id":
            matched = [leads[int(v)] for v in values if v.isdigit() and int(v) in leads]
        else:
            matched = views.matching(world, t, "leads", lambda: views.leads_in_order(world, t), filter_type, values)
        if len(matched) > state.config.leads_filter_max_matches:
            raise ApiError("1003", "Too many results match the filter")
        return paging.respond_rendered(request, matched, lambda _, lead: world.rest_lead(lead, fields))

    def list_members(request: Request, match: re.Match[str]) -> Response:
        t = state.clock.now()
        snap = world.snapshot(t)
        list_id = int(match["id"])
        if list_id not in world.assets.list_by_id or not world.assets.list_by_id[list_id].when.exists(snap.at):
            raise ApiError("1013", f"Static list {list_id} not found")
        fields = fields_of(request)
        members = views.sorted_list_members(world, t).get(list_id, [])
        return paging.respond_rendered(request, members, lambda _, lead: world.rest_lead(snap.leads[lead], fields))

    def program_leads(request: Request, match: re.Match[str]) -> Response:
        t = state.clock.now()
        snap = world.snapshot(t)
        fields = fields_of(request)

        def render(_: int, found: tuple[int, dict[str, Any]]) -> dict[str, Any]:
            lead_id, member = found
            record = world.rest_lead(snap.leads[lead_id], fields)
            record["membership"] = program_membership(member)
            return record

        return paging.respond_rendered(request, views.program_leads(world, t).get(int(match["id"]), []), render)

    def list_membership(request: Request, match: re.Match[str]) -> Response:
        snap = world.snapshot(state.clock.now())
        lead_id = int(match["id"])
        found = [
            {"listId": list_id, "createdAt": iso_z(members[lead_id]), "updatedAt": iso_z(members[lead_id])}
            for list_id, members in sorted(snap.list_members.items())
            if lead_id in members
        ]
        return paging.respond(request, found)

    router.add("GET", r"/rest/v1/leads/describe\.json", describe_leads)
    router.add("GET", r"/rest/v1/leads/describe2\.json", describe2)
    router.add("GET", r"/rest/v1/leads/schema/fields\.json", schema_fields)
    router.add("GET", r"/rest/v1/lead/(?P<id>\d+)\.json", one_lead)
    router.add("GET", r"/rest/v1/leads\.json", by_filter)
    router.add("GET", r"/rest/v1/lists?/(?P<id>\d+)/leads\.json", list_members)
    router.add("GET", r"/rest/v1/leads/programs/(?P<id>\d+)\.json", program_leads)
    router.add("GET", r"/rest/v1/leads/(?P<id>\d+)/listMembership\.json", list_membership)
    return router


def program_membership(member: dict[str, Any]) -> dict[str, Any]:
    """The ``membership`` object of a lead in ``programs/{id}/leads.json``."""
    return {
        "progressionStatus": member["statusName"],
        "acquiredBy": member["acquiredBy"],
        "reachedSuccess": member["reachedSuccess"],
        "membershipDate": iso_z(member["membershipDate"]),
        "updatedAt": iso_z(member["updatedAt"]),
        "isExhausted": False,
        "nurtureCadence": member["nurtureCadence"],
        "stream": member["trackName"],
    }
