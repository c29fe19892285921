"""Lead fields added while the sandbox runs (``POST /_sandbox/lead-fields``), as a new custom field in Marketo."""

from __future__ import annotations

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, parse_csv, run_export

FIELD = {"name": "loyaltyTier", "displayName": "Loyalty Tier", "dataType": "string"}
TEN_DAYS = 10 * 86_400


def truth_leads(api: Api) -> dict[int, dict[str, object]]:
    return {r["id"]: r for r in api.admin("GET", "truth/lead")["records"]}


def test_an_added_field_is_described_and_empty_until_leads_change(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    added = api.admin("POST", "lead-fields", FIELD)["added"]
    assert [(f["name"], f["data_type"], f["added_at"]) for f in added] == [
        ("loyaltyTier", "string", "2026-11-02T15:00:00Z")
    ]
    describe2 = api.get("/rest/v1/leads/describe2.json")["result"][0]["fields"]
    assert describe2[-1]["name"] == "loyaltyTier" and describe2[-1]["dataType"] == "string"
    describe = api.get("/rest/v1/leads/describe.json")["result"]
    assert describe[-1]["rest"]["name"] == "loyaltyTier"
    assert api.admin("GET", "truth/lead_describe")["records"][-1]["name"] == "loyaltyTier"
    assert all(r["loyaltyTier"] is None for r in truth_leads(api).values())


def test_leads_changed_after_the_field_was_added_hold_the_same_value_everywhere(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    api.admin("POST", "lead-fields", FIELD)
    api.advance(TEN_DAYS)
    truth = truth_leads(api)
    filled = {i: r["loyaltyTier"] for i, r in truth.items() if r["loyaltyTier"] is not None}
    assert filled, "some leads change within ten days"
    assert all(str(r["updatedAt"]) >= "2026-11-02T15:00:00Z" for i, r in truth.items() if i in filled)
    ids = sorted(filled)[:50]
    rest = api.get(
        "/rest/v1/leads.json", filterType="id", filterValues=",".join(map(str, ids)), fields="id,loyaltyTier"
    )
    assert {r["id"]: r.get("loyaltyTier") for r in rest["result"]} == {i: filled[i] for i in ids}
    window = {"startAt": "2026-11-02T15:00:00Z", "endAt": "2026-11-12T15:00:00Z"}
    body = {"fields": ["id", "loyaltyTier"], "filter": {"createdAt": window}}
    rows = parse_csv(run_export(api, "/bulk/v1/leads/export", body)[1])
    assert rows[0] == ["id", "loyaltyTier"] and len(rows) > 1
    assert {int(i): v for i, v in rows[1:]} == {int(i): truth[int(i)]["loyaltyTier"] for i, _ in rows[1:]}


def test_a_taken_name_or_an_unknown_type_is_refused_and_reset_forgets_added_fields(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    url = f"{sandbox.url}/_sandbox/lead-fields"
    assert api.session.post(url, json={"name": "email"}, timeout=30).status_code == 400
    assert api.session.post(url, json={"name": "x", "dataType": "blob"}, timeout=30).status_code == 400
    api.admin("POST", "lead-fields", FIELD)
    api.admin("POST", "reset")
    assert api.admin("GET", "lead-fields")["added"] == []
    assert "loyaltyTier" not in [f["name"] for f in api.get("/rest/v1/leads/describe2.json")["result"][0]["fields"]]
