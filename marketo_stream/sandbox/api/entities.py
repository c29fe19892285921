"""Lead-database objects (``/rest/v1``): static lists, campaigns, program members, companies, opportunities and
their roles, named accounts and the ``car_c`` custom object, with Marketo's describe + filterType query pattern.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox import paging
from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import DAY, BadTimestamp, iso_z, parse
from marketo_stream.sandbox.world import records, views
from marketo_stream.sandbox.world.world import CUSTOM_OBJECT


@dataclasses.dataclass(frozen=True)
class LeadDbObject:
    name: str
    display: str
    id_field: str
    dedupe: tuple[str, ...]
    searchable: tuple[str, ...]
    rows: Callable[[float], list[dict[str, Any]]]


def _data_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "currency"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
        return "datetime"
    return "string"


def describe_fields(sample: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": k, "displayName": k[:1].upper() + k[1:], "dataType": _data_type(v), "updateable": k not in
         ("id", "marketoGUID", "createdAt", "updatedAt", "seq"), "crmManaged": False}
        for k, v in sample.items()
    ]  # fmt: skip


def objects(state: SandboxState) -> dict[str, LeadDbObject]:
    """Each object's records at an instant; built once per instant (rows are shared: callers copy, never edit)."""
    world, a = state.world, state.world.assets

    def companies(t: float) -> list[dict[str, Any]]:
        return [records.crm(x, t, "id") for x in a.companies if x.when.exists(t)]

    def opportunities(t: float) -> list[dict[str, Any]]:
        return [records.crm(x, t, "marketoGUID") for x in a.opportunities if x.when.exists(t)]

    def roles(t: float) -> list[dict[str, Any]]:
        return [records.opportunity_role(r, a) for r in world.snapshot(t).opportunity_roles.values()]

    def named_accounts(t: float) -> list[dict[str, Any]]:
        return [records.crm(x, t, "marketoGUID") for x in a.named_accounts if x.when.exists(t)]

    def cars(t: float) -> list[dict[str, Any]]:
        stamped = ("createdAt", "updatedAt")
        return [{k: iso_z(v) if k in stamped else v for k, v in c.items()} for c in world.cars_at(t)]

    def kept(name: str, rows: Callable[[float], list[dict[str, Any]]]) -> Callable[[float], list[dict[str, Any]]]:
        # whole seconds: every time in the world is one, so the records at t are those at int(t)
        return lambda t: world.derived(t, f"rows:{name}", lambda: rows(int(t)))

    found = [
        LeadDbObject("companies", "Company", "id", ("externalCompanyId",), ("externalCompanyId", "id", "company"),
                     kept("companies", companies)),
        LeadDbObject("opportunities", "Opportunity", "marketoGUID", ("externalOpportunityId",),
                     ("externalOpportunityId", "marketoGUID"), kept("opportunities", opportunities)),
        LeadDbObject("opportunities/roles", "Opportunity Role", "marketoGUID",
                     ("externalOpportunityId", "leadId", "role"), ("marketoGUID", "leadId", "externalOpportunityId"),
                     kept("roles", roles)),
        LeadDbObject("namedaccounts", "Named Account", "marketoGUID", ("name",), ("marketoGUID", "name", "industry"),
                     kept("namedaccounts", named_accounts)),
        LeadDbObject(f"customobjects/{CUSTOM_OBJECT}", "Car", "marketoGUID", ("vin",), ("marketoGUID", "leadId", "vin"),
                     kept("cars", cars)),
    ]  # fmt: skip
    return {o.name: o for o in found}


def routes(state: SandboxState) -> Router:
    router = Router()
    world, a = state.world, state.world.assets
    known = objects(state)

    def describe(request: Request, match: re.Match[str]) -> Response:
        item = known[match["obj"]]
        sample = item.rows(state.clock.now())[:1] or [{item.id_field: ""}]
        created = iso_z(world.origin - 400 * DAY)
        body = {"name": item.name.split("/")[-1], "displayName": item.display, "description": item.display,
                "createdAt": created, "updatedAt": created, "idField": item.id_field,
                "dedupeFields": list(item.dedupe), "searchableFields": [[f] for f in item.searchable],
                "fields": describe_fields(sample[0])}  # fmt: skip
        if item.name.startswith("customobjects/"):
            body["relationships"] = [
                {"field": "leadId", "type": "parent", "relatedTo": {"name": "Lead", "field": "Id"}}
            ]
        return Response.json(success([body]))

    def query(request: Request, match: re.Match[str]) -> Response:
        item = known[match["obj"]]
        filter_type = request.get("filterType") or ""
        filter_type = {"idField": item.id_field, "dedupeFields": item.dedupe[0]}.get(filter_type, filter_type)
        values = set(request.get_list("filterValues"))
        if filter_type not in item.searchable or not values:
            raise ApiError("1003", f"filterType must be one of {', '.join(item.searchable)} with filterValues")
        if len(values) > 300:
            raise ApiError("1003", "filterValues accepts at most 300 values")
        fields = request.get_list("fields") or [item.id_field, *item.dedupe, "updatedAt", "createdAt"]
        t = state.clock.now()
        rows = views.matching(world, t, item.name, lambda: item.rows(t), filter_type, values)
        return paging.respond_rendered(
            request, rows, lambda n, r: {"seq": n, **{f: r[f] for f in fields if r.get(f) is not None}}
        )

    def custom_objects(request: Request, _: re.Match[str]) -> Response:
        item = known[f"customobjects/{CUSTOM_OBJECT}"]
        created = iso_z(world.origin - 400 * DAY)
        body = {
            "name": CUSTOM_OBJECT,
            "displayName": "Car",
            "description": "Cars owned by leads",
            "createdAt": created,
            "updatedAt": created,
            "idField": "marketoGUID",
            "dedupeFields": ["vin"],
            "searchableFields": [[f] for f in item.searchable],
            "relationships": [{"field": "leadId", "type": "parent", "relatedTo": {"name": "Lead", "field": "Id"}}],
        }
        names = request.get_list("names")
        return Response.json(success([body] if not names or CUSTOM_OBJECT in names else []))

    def lists(request: Request, match: re.Match[str]) -> Response:
        t = state.clock.now()
        found = [records.static_list(x, t, a) for x in a.lists_at(t)]
        return _filtered(request, match, found, ("id", "name", "programName", "workspaceName"))

    def campaigns(request: Request, match: re.Match[str]) -> Response:
        t = state.clock.now()
        found = [records.campaign(x, t, a) for x in a.campaigns if x.when.exists(t)]
        if request.get("isTriggerable") in ("true", "false"):
            found = [c for c in found if (c["type"] == "trigger") == (request.get("isTriggerable") == "true")]
        return _filtered(request, match, found, ("id", "name", "programName", "workspaceName"))

    def member_describe(request: Request, _: re.Match[str]) -> Response:
        sample = {"leadId": 1, "programId": 1, "program": "", "statusName": "", "membershipDate": iso_z(0),
                  "reachedSuccess": False, "reachedSuccessDate": iso_z(0), "acquiredBy": False, "isExhausted": False,
                  "nurtureCadence": "", "trackName": "", "createdAt": iso_z(0), "updatedAt": iso_z(0)}  # fmt: skip
        body = {"name": "API Program Membership", "description": "Program membership", "dedupeFields":
                ["leadId", "programId"], "searchableFields": [["leadId"], ["statusName"], ["reachedSuccess"]],
                "fields": describe_fields(sample)}  # fmt: skip
        return Response.json(success([body]))

    def members(request: Request, match: re.Match[str]) -> Response:
        t = state.clock.now()
        program_id = int(match["id"])
        found = views.members_by_program(world, t).get(program_id, [])  # as the snapshot holds them, not rendered
        filter_type = request.get("filterType")
        if filter_type == "updatedAt":
            try:
                start, end = parse(request.get("startAt") or ""), parse(request.get("endAt") or "")
            except BadTimestamp as exc:
                raise ApiError("1003", "updatedAt filter needs startAt and endAt") from exc
            if end - start > 7 * DAY:
                raise ApiError("1003", "updatedAt filter range exceeds the maximum of 7 days")
            lowest, highest = iso_z(start), iso_z(end)
            found = [m for m in found if lowest <= iso_z(m["updatedAt"]) <= highest]
        elif filter_type:
            wanted = {v.lower() for v in request.get_list("filterValues")}
            found = [m for m in found if str(records.program_member(m, a).get(filter_type)).lower() in wanted]
        fields = request.get_list("fields") or ["acquiredBy", "leadId", "membershipDate", "programId", "reachedSuccess"]

        def render(n: int, member: dict[str, Any]) -> dict[str, Any]:
            record = records.program_member(member, a)
            return {"seq": n, **{f: record.get(f) for f in fields}}

        return paging.respond_rendered(request, found, render)

    obj = r"(?P<obj>companies|opportunities/roles|opportunities|namedaccounts|customobjects/" + CUSTOM_OBJECT + ")"
    router.add("GET", r"/rest/v1/" + obj + r"/describe\.json", describe)
    router.add("GET", r"/rest/v1/" + obj + r"\.json", query)
    router.add("GET", r"/rest/v1/customobjects\.json", custom_objects)
    router.add("GET", r"/rest/v1/lists(?:/(?P<id>\d+))?\.json", lists)
    router.add("GET", r"/rest/v1/campaigns(?:/(?P<id>\d+))?\.json", campaigns)
    router.add("GET", r"/rest/v1/programs/members/describe\.json", member_describe)
    router.add("GET", r"/rest/v1/programs/(?P<id>\d+)/members\.json", members)
    return router


def _filtered(request: Request, match: re.Match[str], found: list[dict[str, Any]], keys: tuple[str, ...]) -> Response:
    if match["id"]:
        found = [r for r in found if r["id"] == int(match["id"])]
    for key in keys:
        wanted = request.get_list(key)
        if wanted:
            found = [r for r in found if str(r[key]) in wanted]
    chosen, extra = paging.page(
        found, request.get("nextPageToken"), paging.batch_size(request.get_int("batchSize", 300))
    )
    extra.pop("moreResult")
    return Response.json(success(chosen, **extra))
