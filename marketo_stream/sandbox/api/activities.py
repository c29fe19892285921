"""REST activity reads: paging tokens, activities, lead changes and deleted leads (``/rest/v1/activities``).

They page by *commit* time with a ``(commit, marketoGUID)`` cursor, as Marketo's date tokens do. Marketo's habits
are kept: rows within a page are not sorted, a page may come back empty with ``moreResult: true`` (configurable
share), and an empty page may omit ``result`` altogether.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox import paging
from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import BadTimestamp, iso_z, parse
from marketo_stream.sandbox.world import catalog
from marketo_stream.sandbox.world.events import Activity
from marketo_stream.sandbox.world.fields import FIELD_BY_NAME
from marketo_stream.sandbox.world.rng import unit

_END = 10**15  # a guid beyond every real one: the cursor "after everything committed by then"


def routes(state: SandboxState) -> Router:
    router = Router()

    def paging_token(request: Request, _: re.Match[str]) -> Response:
        since = request.get("sinceDatetime")
        if not since:
            raise ApiError("701", "sinceDatetime cannot be blank")
        try:
            moment = int(parse(since))
        except BadTimestamp as exc:
            raise ApiError("1003", f"Invalid sinceDatetime '{since}'") from exc
        return Response.json(success(None, nextPageToken=paging.activity_token(moment, 0)))

    def activities(request: Request, _: re.Match[str]) -> Response:
        ids = _ints(request.get_list("activityTypeIds"), "activityTypeIds")
        if not ids:
            raise ApiError("701", "activityTypeIds cannot be blank")
        if len(ids) > 10 or any(i not in catalog.BY_ID for i in ids):
            raise ApiError("1003", "activityTypeIds must be up to 10 known activity type ids")
        assets = set(_ints(request.get_list("assetIds"), "assetIds"))
        if assets and len(ids) != 1:
            raise ApiError("1003", "assetIds requires exactly one activity type")
        types = set(ids)
        leads = _lead_filter(state, request)

        def wanted(a: Activity) -> bool:
            return a.type_id in types and leads(a) and (not assets or a.event.primary_id in assets)

        return _page(state, request, wanted, _rest_activity, types)

    def lead_changes(request: Request, _: re.Match[str]) -> Response:
        fields = request.get_list("fields")
        if not fields:
            raise ApiError("701", "fields cannot be blank")
        names = set(fields)
        leads = _lead_filter(state, request)

        def wanted(a: Activity) -> bool:
            effect = a.event.effect
            changed = a.type_id == 13 and bool(effect) and effect[0] == "field" and effect[1] in names
            return (a.type_id == 12 or changed) and leads(a)

        return _page(state, request, wanted, _lead_change, {12, 13})

    def deleted_leads(request: Request, _: re.Match[str]) -> Response:
        return _page(state, request, lambda a: a.type_id == 37, _rest_activity, {37})

    router.add("GET", r"/rest/v1/activities/pagingtoken\.json", paging_token)
    router.add("GET", r"/rest/v1/activities\.json", activities)
    router.add("GET", r"/rest/v1/activities/leadchanges\.json", lead_changes)
    router.add("GET", r"/rest/v1/activities/deletedleads\.json", deleted_leads)
    return router


def _ints(values: list[str], name: str) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise ApiError("1003", f"{name} must be integers") from exc


def _lead_filter(state: SandboxState, request: Request) -> Callable[[Activity], bool]:
    lead_ids = set(_ints(request.get_list("leadIds"), "leadIds"))
    if len(lead_ids) > 30:
        raise ApiError("1003", "leadIds accepts at most 30 ids")
    list_id = request.get("listId")
    members: set[int] | None = None
    if list_id:
        members = set(state.world.snapshot(state.clock.now()).list_members.get(_ints([list_id], "listId")[0], {}))
    return lambda a: (not lead_ids or a.event.lead in lead_ids) and (members is None or a.event.lead in members)


def _page(
    state: SandboxState,
    request: Request,
    wanted: Callable[[Activity], bool],
    render: Callable[[Activity], dict[str, Any]],
    types: set[int],
) -> Response:
    """``types``: every type ``wanted`` may accept, so that a prepared log reads only those."""
    commit, guid, empty_served = paging.activity_cursor(request.get("nextPageToken"))
    size = paging.batch_size(request.get_int("batchSize", 300))
    config = state.config
    if not empty_served and unit(config.seed, "empty", commit, guid) < config.empty_page_probability:
        return _answer([], paging.activity_token(commit, guid, True), True, config.omit_empty_result)
    now = int(state.clock.now())
    found = state.world.log.committed((commit, guid), now, wanted, size + 1, types)
    chosen, more = found[:size], len(found) > size
    token = paging.activity_token(chosen[-1].commit, chosen[-1].guid) if more else paging.activity_token(now, _END)
    records = [render(a) for a in chosen]
    random.Random(f"{commit}.{guid}").shuffle(records)  # Marketo does not sort rows within a page
    return _answer(records, token, more, config.omit_empty_result)


def _answer(records: list[dict[str, Any]], token: str, more: bool, omit_empty: bool) -> Response:
    if records or not omit_empty:
        return Response.json(success(records, nextPageToken=token, moreResult=more))
    return Response.json(success(None, nextPageToken=token, moreResult=more))


def rest_attributes(activity: Activity) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in activity.event.attributes.items() if v is not None]


def _rest_activity(activity: Activity) -> dict[str, Any]:
    event = activity.event
    record: dict[str, Any] = {
        "id": activity.guid,
        "marketoGUID": str(activity.guid),
        "leadId": event.lead,
        "activityDate": iso_z(event.t),
        "activityTypeId": event.type_id,
    }
    if event.campaign is not None:
        record["campaignId"] = event.campaign
    if event.primary_id is not None:
        record["primaryAttributeValueId"] = event.primary_id
    if event.primary_value is not None:
        record["primaryAttributeValue"] = event.primary_value
    record["attributes"] = rest_attributes(activity)
    return record


def _lead_change(activity: Activity) -> dict[str, Any]:
    event = activity.event
    record = {k: v for k, v in _rest_activity(activity).items() if not k.startswith("primary")}
    record["fields"] = []
    if event.type_id == 13:
        name = event.effect[1]
        values = event.attributes
        change = {"id": FIELD_BY_NAME[name].id, "name": name, "newValue": values.get("New Value")}
        change["oldValue"] = values.get("Old Value")
        record["fields"] = [change]
    return record
