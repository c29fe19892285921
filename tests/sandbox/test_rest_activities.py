"""REST activity reads: date paging tokens, Marketo's paging habits, late commits, lead changes, deleted leads."""

from __future__ import annotations

from collections.abc import Callable

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code, parse_csv, run_export, since, walk_activities

ACTIVITIES = "/rest/v1/activities.json"
WEB_AND_EMAIL = "1,6,7,10"


def test_paging_from_a_token_returns_every_activity_the_bulk_export_has(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    pages, _ = walk_activities(api, ACTIVITIES, since(api, "2026-10-01T00:00:00Z"), activityTypeIds=WEB_AND_EMAIL)
    rest = {a["marketoGUID"]: a for page in pages for a in page}
    assert sum(len(page) for page in pages) == len(rest), "no duplicates within one walk"
    body = {"filter": {"createdAt": {"startAt": "2026-10-01T00:00:00Z", "endAt": "2026-10-31T23:59:59Z"},
                       "activityTypeIds": [1, 6, 7, 10]}}  # fmt: skip
    _, data = run_export(api, "/bulk/v1/activities/export", body)
    bulk = {row[0]: row for row in parse_csv(data)[1:]}
    october = {g for g, a in rest.items() if a["activityDate"] <= "2026-10-31T23:59:59Z"}
    assert set(bulk) <= set(rest)
    assert october - set(bulk) == set(), "every October activity is in both"
    sample = rest[next(iter(bulk))]
    assert isinstance(sample["attributes"], list)
    assert {"name", "value"} <= set(sample["attributes"][0])
    assert sample["id"] == int(sample["marketoGUID"])


def test_rows_within_a_page_are_not_sorted_by_date(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    pages, _ = walk_activities(api, ACTIVITIES, since(api, "2026-08-01T00:00:00Z"), activityTypeIds=WEB_AND_EMAIL)
    biggest = max(pages, key=len)
    dates = [a["activityDate"] for a in biggest]
    assert len(dates) > 50
    assert dates != sorted(dates)


def test_empty_pages_with_more_results_and_a_missing_result_key(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(empty_page_probability=1.0))
    first = api.get(ACTIVITIES, nextPageToken=since(api, "2026-10-01T00:00:00Z"), activityTypeIds="6")
    assert first["moreResult"] is True
    assert "result" not in first
    second = api.get(ACTIVITIES, nextPageToken=first["nextPageToken"], activityTypeIds="6")
    assert len(second["result"]) > 0


def test_the_last_token_resumes_with_activities_that_appear_as_time_passes(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    _, token = walk_activities(api, ACTIVITIES, since(api, "2026-10-25T00:00:00Z"), activityTypeIds="1,6,12")
    nothing, _ = walk_activities(api, ACTIVITIES, token, activityTypeIds="1,6,12")
    assert sum(map(len, nothing)) == 0
    api.advance(2 * 86400)
    pages, _ = walk_activities(api, ACTIVITIES, token, activityTypeIds="1,6,12")
    fresh = [a for page in pages for a in page]
    assert fresh
    assert all(a["activityDate"] >= "2026-11-02T14:00:00Z" for a in fresh if a["activityTypeId"] == 12)
    assert any(a["activityTypeId"] == 12 for a in fresh), "new leads keep arriving"


def test_late_commits_page_by_commit_time_not_by_activity_date(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(late_commit_probability=0.9, late_commit_max_seconds=6 * 3600))
    pages, _ = walk_activities(api, ACTIVITIES, since(api, "2026-10-20T00:00:00Z"), activityTypeIds=WEB_AND_EMAIL)
    dates = [a["activityDate"] for page in pages for a in page]
    assert min(dates) < "2026-10-20T00:00:00Z", "rows dated before the token but committed after it"


def test_activity_type_ids_are_required_and_limited_to_ten(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    token = since(api, "2026-10-01T00:00:00Z")
    assert error_code(api.get(ACTIVITIES, nextPageToken=token)) == "701"
    assert (
        error_code(api.get(ACTIVITIES, nextPageToken=token, activityTypeIds=",".join(map(str, range(1, 12))))) == "1003"
    )
    assert error_code(api.get(ACTIVITIES, nextPageToken="not base32!", activityTypeIds="1")) == "1003"


def test_activities_filter_by_lead_ids_and_accept_repeated_parameters(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    pages, _ = walk_activities(api, ACTIVITIES, since(api, "2026-09-01T00:00:00Z"), activityTypeIds="12")
    some = sorted({a["leadId"] for page in pages for a in page})[:3]
    token = since(api, "2026-09-01T00:00:00Z")
    params = [("nextPageToken", token), ("activityTypeIds", "12"), ("activityTypeIds", "13")]
    params += [("leadIds", ",".join(map(str, some)))]
    body = api.raw("GET", ACTIVITIES, params=params).json()
    assert {a["leadId"] for a in body.get("result", [])} <= set(some)


def test_lead_changes_carry_only_the_requested_fields(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    pages, _ = walk_activities(
        api, "/rest/v1/activities/leadchanges.json", since(api, "2026-07-01T00:00:00Z"), fields="title,leadStatus"
    )
    changes = [a for page in pages for a in page]
    assert {a["activityTypeId"] for a in changes} == {12, 13}
    changed = [f["name"] for a in changes if a["activityTypeId"] == 13 for f in a["fields"]]
    assert set(changed) <= {"title", "leadStatus"}
    assert changed


def test_deleted_leads_are_listed_and_gone_from_the_lead_database(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    token = since(api, "2026-01-01T00:00:00Z")
    api.advance(30 * 86400)
    api.authenticate()
    pages, _ = walk_activities(api, "/rest/v1/activities/deletedleads.json", token)
    deleted = [a for page in pages for a in page]
    assert deleted, "a month brings deletions in the small world"
    assert {a["activityTypeId"] for a in deleted} == {37}
    lead_id = deleted[0]["leadId"]
    assert api.get(f"/rest/v1/lead/{lead_id}.json")["result"] == []
    found = api.get("/rest/v1/leads.json", filterType="id", filterValues=str(lead_id))
    assert found["result"] == []


def test_deleted_lead_entries_expire_after_fourteen_days(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    token = since(api, "2026-01-01T00:00:00Z")
    api.advance(30 * 86400)
    api.authenticate()
    before = {
        a["marketoGUID"] for p in walk_activities(api, "/rest/v1/activities/deletedleads.json", token)[0] for a in p
    }
    api.advance(15 * 86400)
    api.authenticate()
    after = {
        a["marketoGUID"] for p in walk_activities(api, "/rest/v1/activities/deletedleads.json", token)[0] for a in p
    }
    assert before and not before & after
