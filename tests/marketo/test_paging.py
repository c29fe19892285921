"""Paging against the sandbox: date tokens through empty pages, position tokens, asset offsets, id batches."""

from __future__ import annotations

from collections.abc import Callable

from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.paging import batches, date_token_pages, offset_pages, paging_token, position_token_pages
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import SandboxAdmin, SandboxClock, make_client

BEFORE_HISTORY = "2026-01-01T00:00:00Z"


def test_date_tokens_read_every_activity_through_empty_and_resultless_pages(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = sandbox_factory(empty_page_probability=0.3, omit_empty_result=True)
    admin = SandboxAdmin(sandbox)
    client = make_client(sandbox, SandboxClock(admin))
    pages = list(
        date_token_pages(
            client,
            "/rest/v1/activities.json",
            {"activityTypeIds": [1], "batchSize": 50},
            since_token=paging_token(client, BEFORE_HISTORY),
        )
    )
    guids = [row["marketoGUID"] for page in pages for row in page.rows]
    truth = admin.call("GET", "truth/activity_visit_webpage")
    assert sorted(guids) == sorted(str(r["marketoGUID"]) for r in truth["records"])
    assert len(set(guids)) == len(guids) > 100
    assert any(not page.rows and not page.envelope.has_result for page in pages[:-1]), "went through empty pages"
    assert pages[-1].more_result is False and pages[-1].next_page_token

    resumed = list(
        date_token_pages(
            client, "/rest/v1/activities.json", {"activityTypeIds": [1]}, since_token=pages[-1].next_page_token
        )
    )
    assert [row for page in resumed for row in page.rows] == [], "the last token resumes after everything read"


def test_position_tokens_stop_on_the_page_without_a_token(client: MarketoClient, admin: SandboxAdmin) -> None:
    whole = client.get("/rest/v1/lists.json", {"batchSize": 300}).result
    paged = [row for page in position_token_pages(client, "/rest/v1/lists.json", batch_size=3) for row in page.rows]
    assert [r["id"] for r in paged] == [r["id"] for r in whole] and len(whole) > 3
    assert len(admin.requests(r"/rest/v1/lists\.json")) == 1 + (len(whole) + 2) // 3


def test_asset_offsets_end_on_a_short_page_or_on_no_assets_found(client: MarketoClient, admin: SandboxAdmin) -> None:
    everything = client.get("/rest/asset/v1/programs.json", {"maxReturn": 200}).result
    count = len(everything)
    for size in (count - 1, count):  # ends on a short page; ends on "No assets found"
        before = len(admin.requests("programs"))
        pages = list(offset_pages(client, "/rest/asset/v1/programs.json", max_return=size))
        assert [r["id"] for p in pages for r in p.rows] == [r["id"] for r in everything]
        assert len(admin.requests("programs")) - before == 2, "a short second page, or a second page of nothing"


def test_id_lists_go_in_batches_of_300(client: MarketoClient, admin: SandboxAdmin) -> None:
    ids = [str(lead["id"]) for lead in admin.call("GET", "truth/lead")["records"]][:350]
    found = []
    for batch in batches(ids):
        found += client.get("/rest/v1/leads.json", {"filterType": "id", "filterValues": batch, "fields": "id"}).result
    assert sorted(str(r["id"]) for r in found) == sorted(ids)
    calls = admin.requests(r"/rest/v1/leads\.json")
    assert [len(c["query"]["filterValues"].split(",")) for c in calls] == [300, 50]
