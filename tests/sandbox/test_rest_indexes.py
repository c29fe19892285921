"""REST answers built from indexes kept per instant, a page at a time, are the answers of a walk over the whole
world (``tests/sandbox/reference.py``): item for item, page for page, before and after the clock moves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox import Sandbox
from tests.sandbox import reference
from tests.sandbox.client import Api

Record = dict[str, Any]
BATCH = 7
UNLIMITED = {"rate_limit_calls": 1_000_000, "daily_quota": 10_000_000, "concurrency_limit": 20}


def _walk(api: Api, path: str, **params: Any) -> list[Record]:
    """Every item of a position-paged listing, checking that every page but the last is full and says so."""
    items: list[Record] = []
    token = None
    while True:
        body = api.get(path, batchSize=BATCH, **params, **({"nextPageToken": token} if token else {}))
        assert body["success"], body
        page = body.get("result", [])
        items.extend(page)
        token = body.get("nextPageToken")
        if not token:
            assert len(page) <= BATCH
            assert body.get("moreResult", False) is False
            return items
        assert len(page) == BATCH
        assert body.get("moreResult", True) is True


def _compare_everything(sandbox: Sandbox, api: Api) -> None:
    state = sandbox.state
    t = state.clock.now()
    roles = reference.lead_db_rows(state, "opportunities/roles", t)
    assert len(roles) > 20
    lead_ids = [*sorted({str(r["leadId"]) for r in roles})[:40], "999999", "1001"]
    cars = reference.lead_db_rows(state, "customobjects/car_c", t)
    queries: list[tuple[str, str, list[str], list[str]]] = [
        ("opportunities/roles", "leadId", lead_ids, ["marketoGUID", "leadId", "role", "externalOpportunityId"]),
        ("opportunities/roles", "externalOpportunityId", ["EXT-O-00001", "EXT-O-00002", "EXT-O-00003"], []),
        ("companies", "id", [str(i) for i in range(1, 60, 2)], ["id", "company", "industry", "updatedAt"]),
        ("companies", "externalCompanyId", ["EXT-C-00003", "EXT-C-00004", "nothing"], []),
        ("opportunities", "externalOpportunityId", [f"EXT-O-{i:05d}" for i in range(1, 20)], []),
        ("namedaccounts", "industry", ["Software", "Retail", "Banking"], ["marketoGUID", "name", "industry"]),
        ("customobjects/car_c", "leadId", sorted({str(c["leadId"]) for c in cars})[:25], []),
    ]
    for name, filter_type, values, fields in queries:
        params = {"filterType": filter_type, "filterValues": ",".join(values)}
        if fields:
            params["fields"] = ",".join(fields)
        item = {"companies": "id"}.get(name, "marketoGUID")
        dedupe = {
            "companies": ["externalCompanyId"],
            "opportunities": ["externalOpportunityId"],
            "opportunities/roles": ["externalOpportunityId", "leadId", "role"],
            "namedaccounts": ["name"],
            "customobjects/car_c": ["vin"],
        }[name]
        expected = reference.query(
            state, name, t, filter_type, set(values), fields or [item, *dedupe, "updatedAt", "createdAt"]
        )
        assert _walk(api, f"/rest/v1/{name}.json", **params) == expected, (name, filter_type)

    programs = sorted({p for _, p in state.world.snapshot(t).program_members})
    variants: list[dict[str, str]] = [
        {},
        {"fields": "leadId,statusName,updatedAt,trackName,program,reachedSuccessDate"},
        {"filterType": "statusName", "filterValues": "member,ATTENDED", "fields": "leadId,statusName"},
        {"filterType": "updatedAt", "startAt": "2026-10-20T00:00:00Z", "endAt": "2026-10-26T12:00:00Z"},
        {"filterType": "leadId", "filterValues": ",".join(lead_ids)},
    ]
    for program_id in programs:
        for params in variants:
            expected = reference.program_members(state, t, program_id, params)
            assert _walk(api, f"/rest/v1/programs/{program_id}/members.json", **params) == expected

    fields = ["id", "email", "updatedAt", "leadScore"]
    for list_id in sorted(state.world.snapshot(t).list_members):
        expected = reference.list_leads(state, t, list_id, fields)
        assert _walk(api, f"/rest/v1/lists/{list_id}/leads.json", fields=",".join(fields)) == expected
    for program_id in programs[:4]:
        expected = reference.program_leads(state, t, program_id, fields)
        assert _walk(api, f"/rest/v1/leads/programs/{program_id}.json", fields=",".join(fields)) == expected

    leads = list(state.world.snapshot(t).leads.values())
    for filter_type, values in (
        ("id", [str(lead["id"]) for lead in leads[::9]] + ["1001", "1001", "4", "x"]),
        ("email", [lead["email"] for lead in leads[::17]] + ["nobody@example.com"]),
        ("leadSource", sorted({str(lead["leadSource"]) for lead in leads})[:2]),
        ("company", sorted({str(lead["company"]) for lead in leads})[:5]),
    ):
        expected = reference.leads_by_filter(state, t, filter_type, values, fields)
        got = _walk(
            api, "/rest/v1/leads.json", filterType=filter_type, filterValues=",".join(values), fields=",".join(fields)
        )
        assert got == expected, filter_type


def test_indexed_answers_are_those_of_a_walk_over_the_world(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(**UNLIMITED)
    _compare_everything(sandbox, Api(sandbox))


def test_indexed_answers_follow_the_clock(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(**UNLIMITED)
    api = Api(sandbox)
    before = api.get("/rest/v1/programs/1001/members.json")
    api.advance(9 * 86400)
    _compare_everything(sandbox, api)
    assert api.get("/rest/v1/programs/1001/members.json")["result"] != before["result"]


def test_callers_that_arrive_together_get_one_index_and_the_same_answer(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = sandbox_factory(**UNLIMITED)
    api = Api(sandbox)
    api.authenticate()
    t = sandbox.state.clock.now()
    ids = sorted({str(r["leadId"]) for r in reference.lead_db_rows(sandbox.state, "opportunities/roles", t)})
    params = {"filterType": "leadId", "filterValues": ",".join(ids[:50]), "fields": "marketoGUID,leadId,role"}
    expected = reference.query(
        sandbox.state, "opportunities/roles", t, "leadId", set(ids[:50]), params["fields"].split(",")
    )
    answers: list[list[Record]] = []

    def ask() -> None:
        answers.append(_walk(api.twin(), "/rest/v1/opportunities/roles.json", **params))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [expected] * 8
