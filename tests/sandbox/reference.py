"""The sandbox's REST answers as it computed them before it kept indexes: a walk over the whole world per call.

Kept as the oracle that the indexed, page-at-a-time answers are compared with; each function returns every item
of a listing, in order, rendered as the endpoint renders it (before paging).
"""

from __future__ import annotations

from typing import Any

from marketo_stream.sandbox.api.leads import program_membership
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import iso_z, parse
from marketo_stream.sandbox.world import records

Record = dict[str, Any]


def lead_db_rows(state: SandboxState, name: str, t: float) -> list[Record]:
    world, a = state.world, state.world.assets
    if name == "companies":
        return [records.crm(x, t, "id") for x in a.companies if x.when.exists(t)]
    if name == "opportunities":
        return [records.crm(x, t, "marketoGUID") for x in a.opportunities if x.when.exists(t)]
    if name == "opportunities/roles":
        return [records.opportunity_role(r, a) for r in world.snapshot(t).opportunity_roles.values()]
    if name == "namedaccounts":
        return [records.crm(x, t, "marketoGUID") for x in a.named_accounts if x.when.exists(t)]
    stamped = ("createdAt", "updatedAt")
    return [{k: iso_z(v) if k in stamped else v for k, v in c.items()} for c in world.cars(world.snapshot(t))]


def query(
    state: SandboxState, name: str, t: float, filter_type: str, values: set[str], fields: list[str]
) -> list[Record]:
    rows = [r for r in lead_db_rows(state, name, t) if str(r.get(filter_type)) in values]
    return [{"seq": n, **{f: r[f] for f in fields if r.get(f) is not None}} for n, r in enumerate(rows)]


def program_members(state: SandboxState, t: float, program_id: int, params: dict[str, str]) -> list[Record]:
    a = state.world.assets
    found = [
        records.program_member(m, a) for (_, p), m in state.world.snapshot(t).program_members.items() if p == program_id
    ]
    filter_type = params.get("filterType")
    if filter_type == "updatedAt":
        start, end = parse(params["startAt"]), parse(params["endAt"])
        found = [m for m in found if iso_z(start) <= m["updatedAt"] <= iso_z(end)]
    elif filter_type:
        values = {v.lower() for v in params["filterValues"].split(",")}
        found = [m for m in found if str(m.get(filter_type)).lower() in values]
    default = "acquiredBy,leadId,membershipDate,programId,reachedSuccess"
    fields = params.get("fields", default).split(",")
    return [{"seq": n, **{f: m.get(f) for f in fields}} for n, m in enumerate(found)]


def list_leads(state: SandboxState, t: float, list_id: int, fields: list[str]) -> list[Record]:
    world = state.world
    snap = world.snapshot(t)
    return [world.rest_lead(snap.leads[m], fields) for m in sorted(snap.list_members.get(list_id, {}))]


def leads_by_filter(
    state: SandboxState, t: float, filter_type: str, values: list[str], fields: list[str]
) -> list[Record]:
    world = state.world
    leads = world.snapshot(t).leads
    if filter_type == "id":
        matched = [leads[int(v)] for v in values if v.isdigit() and int(v) in leads]
    else:
        matched = [lead for lead in leads.values() if str(lead.get(filter_type)) in set(values)]
    return [world.rest_lead(lead, fields) for lead in matched]


def program_leads(state: SandboxState, t: float, program_id: int, fields: list[str]) -> list[Record]:
    world = state.world
    snap = world.snapshot(t)
    found = []
    for (lead_id, member_program), member in sorted(snap.program_members.items()):
        if member_program == program_id:
            record = world.rest_lead(snap.leads[lead_id], fields)
            record["membership"] = program_membership(member)
            found.append(record)
    return found
