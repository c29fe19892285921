"""Lead database reads: describes, one lead, leads by filter (limits), static list members and paging."""

from __future__ import annotations

from collections.abc import Callable

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code


def test_describe_describe2_and_schema_fields_agree_on_the_fields(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    old = {f["rest"]["name"] for f in api.get("/rest/v1/leads/describe.json")["result"]}
    new = api.get("/rest/v1/leads/describe2.json")["result"][0]
    schema = api.get("/rest/v1/leads/schema/fields.json", batchSize=10)
    assert old == {f["name"] for f in new["fields"]}
    assert {"id", "email", "createdAt", "updatedAt", "customerTier"} <= old
    assert ["email"] in new["searchableFields"]
    assert len(schema["result"]) == 10
    assert "nextPageToken" in schema


def test_a_lead_by_id_with_the_default_and_requested_fields(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    some = api.get("/rest/v1/leads.json", filterType="id", filterValues=",".join(map(str, range(1001, 1021))))
    lead_id = some["result"][0]["id"]
    lead = api.get(f"/rest/v1/lead/{lead_id}.json")["result"][0]
    assert set(lead) <= {"id", "email", "updatedAt", "createdAt", "firstName", "lastName"}
    assert lead["id"] == lead_id
    assert lead["createdAt"].endswith("Z")
    picked = api.get(f"/rest/v1/lead/{lead_id}.json", fields="id,leadScore,newsletterOptIn")["result"][0]
    assert isinstance(picked["leadScore"], int)
    assert isinstance(picked["newsletterOptIn"], bool)


def test_leads_by_filter_page_with_a_token_the_last_page_lacks(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    ids = ",".join(str(i) for i in range(1001, 1011))
    first = api.get("/rest/v1/leads.json", filterType="id", filterValues=ids, batchSize=6)
    assert len(first["result"]) == 6
    last = api.get(
        "/rest/v1/leads.json", filterType="id", filterValues=ids, batchSize=6, nextPageToken=first["nextPageToken"]
    )
    assert "nextPageToken" not in last
    assert {lead["id"] for lead in first["result"] + last["result"]} <= set(range(1001, 1011))
    email = first["result"][0]["email"]
    assert api.get("/rest/v1/leads.json", filterType="email", filterValues=email)["result"][0]["email"] == email


def test_filter_limits_answer_1003_and_unsupported_fields_1011(sandbox_factory: Callable[..., Sandbox]) -> None:
    api = Api(sandbox_factory(leads_filter_max_matches=5))
    many = ",".join(str(i) for i in range(301))
    assert error_code(api.get("/rest/v1/leads.json", filterType="id", filterValues=many)) == "1003"
    too_many = api.get("/rest/v1/leads.json", filterType="leadSource", filterValues="Website")
    assert too_many["errors"] == [{"code": "1003", "message": "Too many results match the filter"}]
    assert error_code(api.get("/rest/v1/leads.json", filterType="createdAt", filterValues="x")) == "1011"


def test_a_uri_over_8_kb_answers_414_and_post_with_method_get_carries_it(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    values = ",".join(str(i) for i in range(1001, 3000))
    assert len(values) > 8192
    assert api.raw("GET", "/rest/v1/leads.json", params={"filterType": "id", "filterValues": values}).status_code == 414
    form = {"filterType": "id", "filterValues": ",".join(str(i) for i in range(1001, 1201)) + ",9" * 3000}
    answer = api.raw("POST", "/rest/v1/leads.json", params={"_method": "GET"}, data=form)
    assert error_code(answer.json()) == "1003", "the 300-value limit still applies"
    form["filterValues"] = "1001,1002,1003"
    assert api.raw("POST", "/rest/v1/leads.json", params={"_method": "GET"}, data=form).json()["success"]
