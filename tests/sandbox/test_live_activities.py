"""Activities added while the sandbox runs (``POST /_sandbox/activities``): a steady stream that REST paging, bulk
exports and the ground truth read like the world's own, visible once committed."""

from __future__ import annotations

from marketo_stream.sandbox import Sandbox
from tests.sandbox.client import Api, parse_csv, run_export

START = 1_793_631_600  # the sandbox's start, 2026-11-02T15:00:00Z


def rest_guids(api: Api, since: str, types: str) -> set[str]:
    token = api.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since)["nextPageToken"]
    found: set[str] = set()
    while True:
        page = api.get("/rest/v1/activities.json", activityTypeIds=types, nextPageToken=token)
        found |= {row["marketoGUID"] for row in page.get("result", [])}
        token = page["nextPageToken"]
        if not page["moreResult"]:
            return found


def test_a_stream_of_added_activities_is_seen_by_rest_bulk_and_truth_once_committed(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    assert api.admin("POST", "activities", {"per_minute": 2, "minutes": 30, "types": [1, 2]})["activities"] == []
    api.advance(40 * 60)
    added = api.admin("GET", "activities")["activities"]
    dates = sorted(a["date"] for a in added)
    assert len(added) >= 55 and dates[0] == START and dates[-1] <= START + 30 * 60, "every 30 s for 30 minutes"
    assert all(a["commit"] >= a["date"] and a["type"] in (1, 2) for a in added)
    guids = {a["guid"] for a in added}

    assert guids <= rest_guids(api, "2026-11-02T15:00:00Z", "1,2")
    window = {"startAt": "2026-11-02T15:00:00Z", "endAt": "2026-11-02T15:35:00Z"}
    body = {"filter": {"createdAt": window, "activityTypeIds": [1, 2]}}
    rows = parse_csv(run_export(api, "/bulk/v1/activities/export", body)[1])
    assert guids <= {row[0] for row in rows[1:]}
    truth = {r["marketoGUID"] for r in api.admin("GET", "truth/activity_visit_webpage")["records"]}
    assert {a["guid"] for a in added if a["type"] == 1} <= truth


def test_bad_streams_are_refused_and_reset_forgets_the_added_activities(sandbox: Sandbox) -> None:
    api = Api(sandbox)
    url = f"{sandbox.url}/_sandbox/activities"
    assert api.session.post(url, json={"per_minute": 0, "minutes": 5}, timeout=30).status_code == 400
    assert api.session.post(url, json={"per_minute": 1, "minutes": 5, "types": [37]}, timeout=30).status_code == 400
    api.admin("POST", "activities", {"per_minute": 6, "minutes": 5})
    api.admin("POST", "reset")
    api.advance(600)
    assert api.admin("GET", "activities")["activities"] == []
