"""Ground truth: what a perfect sync of each table must hold at the current simulated time.

``GET /_sandbox/truth/{table}`` answers ``{"table", "as_of", "key", "count", "records", "deleted_keys"}``. Records use
the REST field names with values typed as the REST API returns them; timestamps are normalised to
``YYYY-MM-DDTHH:MM:SSZ`` (the asset API's ``Z+0000`` included). ``deleted_keys`` lists the keys that existed and are
gone (deleted and merged-away leads; memberships and roles that were removed or whose lead is gone).

The truth claims only what a client can reach through the API: opportunities that some role names (Marketo lists
opportunities by their ids only, and a client learns those from roles), email-template versions that were showing
when a client listed the templates (or now). Named accounts are served (``namedaccounts.json``) but no table of the
product holds them, so they are not in the truth. Two tables outside the listing say what no client can know:
``_rejected`` (export rows broken on purpose) and ``_email_template_revisions`` (every revision, listed or not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from marketo_stream.sandbox.api.entities import objects
from marketo_stream.sandbox.bulk.rows import activity_record
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import chicago_day, iso_z
from marketo_stream.sandbox.world import catalog, records
from marketo_stream.sandbox.world.world import CUSTOM_OBJECT, World

Table = tuple[list[str], Iterable[dict[str, Any]], list[dict[str, Any]]]


class UnknownTable(KeyError):
    """No such truth table; the message lists the known ones."""


def table_names() -> list[str]:
    return [
        "lead",
        *(t.table for t in catalog.ALL),
        "activity_type",
        "campaign",
        "program",
        "program_tag",
        "program_cost",
        "program_membership",
        "list",
        "list_membership",
        "opportunity",
        "opportunity_membership",
        "company",
        "email_template_history",
        "email",
        "form",
        f"custom_object_{CUSTOM_OBJECT}",
        "lead_describe",
        "api_usage",
    ]


def truth(state: SandboxState, table: str, with_records: bool = True) -> dict[str, Any]:
    now = state.clock.now()
    builders = _builders(state, now)
    if table in catalog.BY_TABLE:
        key, found, deleted = _activities(state.world, catalog.BY_TABLE[table].id, now)
    elif table in builders:
        key, found, deleted = builders[table]()
    else:
        raise UnknownTable(f"unknown truth table {table!r}; known: {', '.join(table_names())}")
    body: dict[str, Any] = {"table": table, "as_of": iso_z(now), "key": key}
    if with_records:
        listed = list(found)
        body.update(count=len(listed), records=listed)
    else:
        body["count"] = sum(1 for _ in found)
    body["deleted_keys"] = deleted
    return body


def _activities(world: World, type_id: int, now: float) -> Table:
    rows = (activity_record(a) for a in world.log.dated(world.origin, now, now, {type_id}))
    return ["marketoGUID"], rows, []


def _builders(state: SandboxState, now: float) -> dict[str, Callable[[], Table]]:
    world, a = state.world, state.world.assets
    lead_db = objects(state)

    def snap() -> Any:
        return world.snapshot(now)

    def lead() -> Table:
        s = snap()
        names = [f.name for f in world.lead_fields.all]
        rows = [{n: world.rest_lead(raw).get(n) for n in names} for raw in s.leads.values()]
        return ["id"], rows, [{"id": lead_id} for lead_id in sorted(s.gone)]

    def program_membership() -> Table:
        s = snap()
        rows = [records.program_member(m, a) for m in s.program_members.values()]
        gone = sorted(s.ever_program_members - set(s.program_members))
        return ["leadId", "programId"], rows, [{"leadId": lead, "programId": p} for lead, p in gone]

    def list_membership() -> Table:
        s = snap()
        rows = [
            {"listId": list_id, "leadId": lead_id, "createdAt": iso_z(since)}
            for list_id, members in sorted(s.list_members.items())
            for lead_id, since in sorted(members.items())
        ]
        current = {(r["listId"], r["leadId"]) for r in rows}
        gone = sorted(s.ever_list_members - current)
        return ["listId", "leadId"], rows, [{"listId": lst, "leadId": lead} for lst, lead in gone]

    def roles() -> Table:
        s = snap()
        rows = [records.opportunity_role(r, a) for r in s.opportunity_roles.values()]
        gone = sorted(s.ever_roles - set(s.opportunity_roles))
        return ["marketoGUID"], rows, [{"marketoGUID": g} for g in gone]

    def templates() -> Table:
        """The versions showing at each template listing and now, keyed as Marketo tells them apart (a version's
        ``updatedAt`` is when it was drafted, or approved once it is)."""
        found: dict[tuple[int, str], dict[str, Any]] = {}
        with state.listings_lock:
            instants = {*state.template_listings, (int(now), "approved"), (int(now), "draft")}
        for second, status in sorted(instants):
            for x in a.templates:
                if x.created > second:
                    continue
                approved, draft = records.template_versions(x, second)
                shown = {"approved": approved, "draft": draft}.get(status, approved or draft)
                if shown is not None:
                    record = records.template(x, shown, second, a, iso_z)
                    found[(x.id, record["updatedAt"])] = record
        return ["id", "updatedAt"], [found[key] for key in sorted(found)], []

    def revisions() -> Table:
        rows = [
            records.template(x, revision, now, a, iso_z)
            for x in a.templates
            for revision in x.revisions
            if revision.drafted <= now and x.created <= now
        ]
        return ["id", "version"], rows, []

    def lead_describe() -> Table:
        """A lead field as a client learns it from describe2 (its fields, keyed by the API name every lead call
        takes) joined by name with describe.json (its id)."""
        rows = [
            {"name": f.name, "id": f.id, "displayName": f.display, "dataType": f.data_type, "length": f.length,
             "updateable": f.updateable, "crmManaged": False}
            for f in world.lead_fields.all
        ]  # fmt: skip
        return ["name"], rows, []

    def opportunities() -> Table:
        named = {role["externalOpportunityId"] for role in roles()[1]}
        rows = [r for r in lead_db["opportunities"].rows(now) if r.get("externalOpportunityId") in named]
        return ["marketoGUID"], rows, []

    def programs() -> list[Any]:
        return [p for p in a.programs if p.when.exists(now)]

    def usage() -> Table:
        """Every day with calls, and the last seven days with or without (``last7days.json`` lists them all)."""
        today = chicago_day(now)
        days = {day for day in state.limits.usage if day <= today} | {today - timedelta(days=n) for n in range(7)}
        rows = []
        for day in sorted(days):
            counts: dict[str, int] = dict(state.limits.usage.get(day) or {})
            rows.append({"date": day.isoformat(), "total": sum(counts.values()), "users": dict(counts)})
        return ["date"], rows, []

    return {
        "lead": lead,
        "activity_type": lambda: (["id"], [t.as_rest() for t in catalog.ALL], []),
        "campaign": lambda: (["id"], [records.campaign(x, now, a) for x in a.campaigns if x.when.exists(now)], []),
        "program": lambda: (["id"], [records.program(p, now, a) for p in programs()], []),
        "program_tag": lambda: (
            ["programId", "tagType"],
            [{"programId": p.id, "tagType": k, "tagValue": v} for p in programs() for k, v in p.tags],
            [],
        ),
        "program_cost": lambda: (
            ["programId", "startDate"],
            [{"programId": p.id, "startDate": d, "cost": c, "note": n} for p in programs() for d, c, n in p.costs],
            [],
        ),
        "program_membership": program_membership,
        "list": lambda: (["id"], [records.static_list(x, now, a) for x in a.lists_at(now)], []),
        "list_membership": list_membership,
        "opportunity": opportunities,
        "opportunity_membership": roles,
        "company": lambda: (["id"], lead_db["companies"].rows(now), []),
        "email_template_history": templates,
        "_email_template_revisions": revisions,
        "email": lambda: (["id"], [records.email(x, now, a, iso_z) for x in a.emails if x.when.exists(now)], []),
        "form": lambda: (["id"], [records.simple_asset(x, now, a, iso_z) for x in a.forms if x.when.exists(now)], []),
        f"custom_object_{CUSTOM_OBJECT}": lambda: (
            ["marketoGUID"],
            lead_db[f"customobjects/{CUSTOM_OBJECT}"].rows(now),
            [],
        ),
        "lead_describe": lead_describe,
        "api_usage": usage,
        "_rejected": lambda: (["export_id", "line"], list(state.jobs.malformed), []),
    }
