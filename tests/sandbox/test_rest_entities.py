"""Asset API browsing and the lead-database objects: shapes, paging ends, filters."""

from __future__ import annotations

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, error_code

ASSET = "/rest/asset/v1"
NO_ASSETS = ["No assets found for the given search criteria."]


def test_program_browsing_pages_by_offset_and_ends_with_the_no_assets_warning(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    seen, offset = [], 0
    while True:
        page = api.get(f"{ASSET}/programs.json", maxReturn=5, offset=offset)
        assert page["success"] and page["errors"] == []
        if "result" not in page:
            assert page["warnings"] == NO_ASSETS
            break
        seen += page["result"]
        offset += 5
    assert len(seen) == len({p["id"] for p in seen}) >= 10
    assert seen[0]["createdAt"].endswith("Z+0000")
    assert seen[0]["folder"]["type"] == "Folder"
    assert "tags" not in seen[0]
    one = api.get(f"{ASSET}/program/{seen[0]['id']}.json")["result"][0]
    assert one["tags"] and one["costs"]
    assert error_code(api.get(f"{ASSET}/programs.json", maxReturn=201)) == "1003"


def test_programs_filter_by_updated_at_window(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    recent = api.get(f"{ASSET}/programs.json", maxReturn=200, earliestUpdatedAt="2026-10-01T00:00:00Z")
    everything = api.get(f"{ASSET}/programs.json", maxReturn=200)["result"]
    assert all(p["updatedAt"] >= "2026-10-01" or p["createdAt"] >= "2026-10-01" for p in recent.get("result", []))
    assert len(recent.get("result", [])) < len(everything)


def test_campaigns_in_both_apis(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    first = api.get("/rest/v1/campaigns.json", batchSize=10)
    rest = api.get("/rest/v1/campaigns.json", batchSize=10, nextPageToken=first["nextPageToken"])
    ids = [c["id"] for c in first["result"]]
    assert len(ids) == 10 and "type" in first["result"][0]
    while "nextPageToken" in rest:
        ids += [c["id"] for c in rest["result"]]
        rest = api.get("/rest/v1/campaigns.json", batchSize=10, nextPageToken=rest["nextPageToken"])
    ids += [c["id"] for c in rest["result"]]
    smart = api.get(f"{ASSET}/smartCampaigns.json", maxReturn=200)["result"]
    assert sorted(ids) == sorted(c["id"] for c in smart)
    assert smart[0]["folder"].keys() == {"id", "type"}


def test_tags_channels_and_other_assets(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    tags = api.get(f"{ASSET}/tagTypes.json")["result"]
    assert isinstance(tags[0]["applicableProgramTypes"], str)
    by_name = api.get(f"{ASSET}/tagType/byName.json", name=tags[0]["tagType"])["result"][0]
    assert by_name["allowableValues"].startswith("[")
    channels = api.get(f"{ASSET}/channels.json")["result"]
    assert channels[0]["progressionStatuses"][0]["name"] == "Not in Program"
    for path in ("emails", "forms", "landingPages", "segmentation", "staticLists"):
        assert api.get(f"{ASSET}/{path}.json")["result"], path
    segmentation = api.get(f"{ASSET}/segmentation.json")["result"][0]["id"]
    assert api.get(f"{ASSET}/segmentation/{segmentation}/segments.json")["result"]
    draft_or_approved = api.get(f"{ASSET}/emailTemplates.json", maxReturn=200)["result"]
    assert {t["status"] for t in draft_or_approved} <= {"Approved", "Draft"}


def test_lead_database_objects_describe_and_query(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    for obj, field in (("companies", "externalCompanyId"), ("opportunities", "externalOpportunityId"),
                       ("namedaccounts", "name")):  # fmt: skip
        described = api.get(f"/rest/v1/{obj}/describe.json")["result"][0]
        assert field in described["dedupeFields"]
        assert {f["name"] for f in described["fields"]} >= {"createdAt", "updatedAt"}
    companies = api.get("/rest/v1/companies.json", filterType="id", filterValues="1,2,3")["result"]
    assert [c["seq"] for c in companies] == [0, 1, 2]
    roles_by_lead = api.admin("GET", "truth/opportunity_membership")["records"]
    lead_id = roles_by_lead[0]["leadId"]
    roles = api.get("/rest/v1/opportunities/roles.json", filterType="leadId", filterValues=str(lead_id))["result"]
    assert roles and all(r["leadId"] == lead_id for r in roles)


def test_custom_objects_list_describe_and_query(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    listed = api.get("/rest/v1/customobjects.json")["result"]
    assert [o["name"] for o in listed] == ["car_c"]
    described = api.get("/rest/v1/customobjects/car_c/describe.json")["result"][0]
    assert described["idField"] == "marketoGUID"
    car = api.admin("GET", "truth/custom_object_car_c")["records"][0]
    found = api.get("/rest/v1/customobjects/car_c.json", filterType="vin", filterValues=car["vin"], fields="vin,make")
    assert found["result"] == [{"seq": 0, "vin": car["vin"], "make": car["make"]}]


def test_program_members_query_and_describe(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    member = api.admin("GET", "truth/program_membership")["records"][0]
    program = member["programId"]
    found = api.get(
        f"/rest/v1/programs/{program}/members.json", filterType="leadId", filterValues=str(member["leadId"])
    )
    assert found["result"][0]["leadId"] == member["leadId"]
    assert set(found["result"][0]) == {"seq", "acquiredBy", "leadId", "membershipDate", "programId", "reachedSuccess"}
    too_wide = api.get(f"/rest/v1/programs/{program}/members.json", filterType="updatedAt",
                       startAt="2026-10-01T00:00:00Z", endAt="2026-10-09T00:00:00Z")  # fmt: skip
    assert error_code(too_wide) == "1003"
    described = api.get("/rest/v1/programs/members/describe.json")["result"][0]
    assert described["dedupeFields"] == ["leadId", "programId"]
