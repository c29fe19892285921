"""Ground truth and the world's consistency: memberships match the activities that made them, deletes and merges
remove leads, the world moves with the clock, and Marketo's retention purges old activities.

The consistency checks run on the tiny world (30 days of history), where no activity has yet aged out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api


def _truth(api: Api, table: str, **params: Any) -> dict[str, Any]:
    return api.admin("GET", f"truth/{table}", **params)


def _by_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["activityDate"], int(r["marketoGUID"])))


def test_the_truth_endpoint_lists_its_tables_and_describes_each(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    tables = api.admin("GET", "truth")["tables"]
    assert {"lead", "activity_new_lead", "activity_attend_webinar", "program_membership", "list_membership"} <= set(
        tables
    )
    assert {"email_template_history", "custom_object_car_c", "opportunity_membership", "program_cost"} <= set(tables)
    lead = _truth(api, "lead")
    assert lead["key"] == ["id"]
    assert lead["as_of"] == "2026-11-02T15:00:00Z"
    assert lead["count"] == len(lead["records"]) > 300
    assert set(lead["records"][0]) >= {"id", "email", "createdAt", "customerTier", "leadScore"}
    without = _truth(api, "activity_send_email", records="false")
    assert "records" not in without
    assert without["count"] > 0


def test_every_lead_has_a_new_lead_activity_and_gone_leads_are_deleted_keys(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    leads = {r["id"] for r in _truth(api, "lead")["records"]}
    gone = {k["id"] for k in _truth(api, "lead")["deleted_keys"]}
    created = {r["leadId"] for r in _truth(api, "activity_new_lead")["records"]}
    assert created == leads | gone
    merges = _truth(api, "activity_merge_leads")["records"]
    losers = {loser for m in merges for loser in m["attributes"]["Merge IDs"]}
    assert losers and losers <= gone
    assert not losers & leads
    assert {m["leadId"] for m in merges} <= leads, "winners survive"


def test_deleted_leads_have_a_delete_lead_activity(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.advance(30 * 86400)
    deletes = _truth(api, "activity_delete_lead")["records"]
    gone = {k["id"] for k in _truth(api, "lead")["deleted_keys"]}
    assert deletes
    assert {d["leadId"] for d in deletes} <= gone


def test_list_and_opportunity_membership_match_their_add_and_remove_activities(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    api = Api(sandbox_factory(scale="tiny"))
    alive = {r["id"] for r in _truth(api, "lead")["records"]}
    members: dict[tuple[int, int], bool] = {}
    adds = _truth(api, "activity_add_to_list")["records"] + _truth(api, "activity_remove_from_list")["records"]
    for row in _by_time(adds):
        members[(row["primaryAttributeValueId"], row["leadId"])] = row["activityTypeId"] == 24
    expected = {pair for pair, member in members.items() if member and pair[1] in alive}
    truth = {(r["listId"], r["leadId"]) for r in _truth(api, "list_membership")["records"]}
    assert truth == expected and truth
    roles: dict[tuple[int, int], bool] = {}
    changes = _truth(api, "activity_add_to_opportunity")["records"]
    changes += _truth(api, "activity_remove_from_opportunity")["records"]
    for row in _by_time(changes):
        roles[(row["leadId"], row["primaryAttributeValueId"])] = row["activityTypeId"] == 34
    expected_leads = sorted(lead for (lead, _), on in roles.items() if on and lead in alive)
    assert sorted(r["leadId"] for r in _truth(api, "opportunity_membership")["records"]) == expected_leads


def test_program_membership_matches_status_changes_and_nurture_adds(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(scale="tiny"))
    alive = {r["id"] for r in _truth(api, "lead")["records"]}
    status: dict[tuple[int, int], str] = {}
    for row in _by_time(_truth(api, "activity_change_status_in_progression")["records"]):
        status[(row["leadId"], row["primaryAttributeValueId"])] = row["attributes"]["New Status"]
    truth = {(r["leadId"], r["programId"]): r["statusName"] for r in _truth(api, "program_membership")["records"]}
    assert truth == {k: v for k, v in status.items() if k[0] in alive}
    nurtured = {(r["leadId"], r["primaryAttributeValueId"]) for r in _truth(api, "activity_add_to_nurture")["records"]}
    engagement = {p["id"] for p in _truth(api, "program")["records"] if p["type"] == "Engagement"}
    assert {k for k in truth if k[1] in engagement} <= nurtured


def test_lead_fields_follow_their_change_data_value_activities(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(scale="tiny"))
    leads = {r["id"]: r for r in _truth(api, "lead")["records"]}
    last: dict[tuple[int, str], Any] = {}
    fields = {f["displayName"]: f["rest"]["name"] for f in api.get("/rest/v1/leads/describe.json")["result"]}
    for row in _by_time(_truth(api, "activity_change_data_value")["records"]):
        last[(row["leadId"], fields[row["primaryAttributeValue"]])] = row["attributes"].get("New Value")
    checked = 0
    for (lead_id, field), value in last.items():
        if lead_id in leads and field in ("title", "leadStatus", "customerTier", "city"):
            assert leads[lead_id][field] == value
            checked += 1
    assert checked > 0


def test_rest_list_members_equal_the_truth(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    served = set()
    for item in api.get("/rest/v1/lists.json")["result"]:
        for lead in api.get(f"/rest/v1/lists/{item['id']}/leads.json", fields="id")["result"]:
            served.add((item["id"], lead["id"]))
    assert served == {(r["listId"], r["leadId"]) for r in _truth(api, "list_membership")["records"]}


def test_advancing_the_clock_grows_the_world(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    before = _truth(api, "lead", records="false")["count"]
    activities_before = _truth(api, "activity_new_lead", records="false")["count"]
    api.advance(10 * 86400)
    after = _truth(api, "lead")
    assert after["as_of"] == "2026-11-12T15:00:00Z"
    assert after["count"] > before
    assert _truth(api, "activity_new_lead", records="false")["count"] > activities_before
    assert max(r["createdAt"] for r in after["records"]) > "2026-11-02T15:00:00Z"


def test_retention_purges_high_volume_activities_after_90_days_and_keeps_new_lead(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    visits = _truth(api, "activity_visit_webpage")["records"]
    assert min(r["activityDate"] for r in visits) >= "2026-08-04T15:00:00Z"
    new_leads = _truth(api, "activity_new_lead")["records"]
    assert min(r["activityDate"] for r in new_leads) < "2026-07-10T00:00:00Z"
    sends = _truth(api, "activity_fill_out_form")["records"]
    assert min(r["activityDate"] for r in sends) < "2026-08-01T00:00:00Z", "25 months for the others"


def test_email_templates_show_approved_and_draft_versions_and_the_history_keeps_each(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    history = _truth(api, "_email_template_revisions")
    versions: dict[int, list[int]] = defaultdict(list)
    for row in history["records"]:
        versions[row["id"]].append(row["version"])
    assert history["key"] == ["id", "version"]
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert max(map(len, versions.values())) > 2
    approved = api.get("/rest/asset/v1/emailTemplates.json", status="approved", maxReturn=200)["result"]
    for template in approved:
        assert template["status"] == "Approved"
        assert template["version"] == max(
            r["version"] for r in history["records"] if r["id"] == template["id"] and r["status"] == "Approved"
        )
    api.advance(60 * 86400)
    later = _truth(api, "_email_template_revisions")
    assert later["count"] > history["count"], "new versions appear as time passes"


def _shown(api: Api) -> set[tuple[int, str]]:
    """(id, updatedAt) of the template versions the asset API lists now, approved and draft."""
    found = set()
    for status in ("approved", "draft"):
        for row in api.get("/rest/asset/v1/emailTemplates.json", status=status, maxReturn=200).get("result", []):
            found.add((row["id"], row["updatedAt"].removesuffix("+0000")))
    return found


def test_the_template_history_truth_holds_the_versions_showing_at_each_listing(sandbox: Sandbox) -> None:
    """No client can see a revision drafted and approved between two listings: the truth does not claim it."""
    api = Api(sandbox)
    first = _shown(api)
    api.advance(40 * 86400)
    unlisted_now = {(r["id"], r["updatedAt"]) for r in _truth(api, "email_template_history")["records"]}
    api.advance(40 * 86400)
    second = _shown(api)
    history = _truth(api, "email_template_history")
    assert history["key"] == ["id", "updatedAt"]
    kept = {(r["id"], r["updatedAt"]) for r in history["records"]}
    assert kept == first | second
    assert unlisted_now - kept, "what showed only between the listings is not claimed"
    every = {(r["id"], r["updatedAt"]) for r in _truth(api, "_email_template_revisions")["records"]}
    assert kept < every


def test_the_opportunity_truth_holds_those_some_role_names(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    named = {r["externalOpportunityId"] for r in _truth(api, "opportunity_membership")["records"]}
    opportunities = _truth(api, "opportunity")["records"]
    assert opportunities and {r["externalOpportunityId"] for r in opportunities} == named
    every = api.get("/rest/v1/opportunities.json", filterType="externalOpportunityId",
                    filterValues=",".join(f"EXT-O-{i:05d}" for i in range(1, 301)))["result"]  # fmt: skip
    assert {r["externalOpportunityId"] for r in every} - named, "opportunities without a role exist, unclaimed"


def test_named_accounts_are_served_but_claimed_by_no_truth_table(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    assert "named_account" not in api.admin("GET", "truth")["tables"]
    assert api.get("/rest/v1/namedaccounts.json", filterType="name", filterValues="x")["success"] is True


def test_emails_name_the_template_they_are_built_on_and_sends_name_emails(sandbox: Sandbox) -> None:
    """Sends name an email, an email its template: the chain the warehouse's email_sends follows."""
    api = Api(sandbox)
    listed = api.get("/rest/asset/v1/emails.json", maxReturn=200)["result"]
    emails = _truth(api, "email")
    assert emails["key"] == ["id"]
    assert {e["id"]: e["template"] for e in listed} == {e["id"]: e["template"] for e in emails["records"]}
    templates = {r["id"] for r in _truth(api, "email_template_history")["records"]}
    assert {e["template"] for e in listed} <= templates
    assert len({e["template"] for e in listed}) > 1
    assert all(e["version"] in (1, 2) and e["status"] in ("approved", "draft") for e in listed)
    sent = {r["primaryAttributeValueId"] for r in _truth(api, "activity_send_email")["records"]}
    assert sent and sent <= {e["id"] for e in listed}
