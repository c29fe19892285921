"""Activity type metadata: ``activities/types.json`` and the custom activity type endpoints."""

from __future__ import annotations

import re

from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import iso_z
from marketo_stream.sandbox.world.catalog import CUSTOM, ActivityType


def routes(state: SandboxState) -> Router:
    router = Router()
    created = state.world.origin

    def types(request: Request, _: re.Match[str]) -> Response:
        return Response.json(success([t.as_rest() for t in state.world.activity_types]))

    def custom_types(request: Request, _: re.Match[str]) -> Response:
        return Response.json(success([_custom_summary(t, created) for t in CUSTOM]))

    def describe(request: Request, match: re.Match[str]) -> Response:
        found = [t for t in CUSTOM if t.api_name == match["api"]]
        if not found:
            raise ApiError("1013", f"Activity type '{match['api']}' not found")
        return Response.json(success([_custom_describe(found[0], created)]))

    router.add("GET", r"/rest/v1/activities/types\.json", types)
    router.add("GET", r"/rest/v1/activities/external/types\.json", custom_types)
    router.add("GET", r"/rest/v1/activities/external/type/(?P<api>[^/]+)/describe\.json", describe)
    return router


def _api_name(name: str) -> str:
    words: list[str] = re.findall(r"[A-Za-z0-9]+", name)
    return words[0].lower() + "".join(w.capitalize() for w in words[1:])


def _custom_summary(t: ActivityType, created: float) -> dict[str, object]:
    return {
        "id": t.id,
        "apiName": t.api_name,
        "name": t.name,
        "description": t.description,
        "triggerName": f"{t.name} occurs",
        "filterName": f"{t.name} happened",
        "createdAt": iso_z(created),
        "updatedAt": iso_z(created),
        "status": "approved",
    }


def _custom_describe(t: ActivityType, created: float) -> dict[str, object]:
    item = _custom_summary(t, created)
    if t.primary:
        name, kind = t.primary
        item["primaryAttribute"] = {"apiName": _api_name(name), "name": name, "description": name, "dataType": kind}
    item["attributes"] = [
        {"apiName": _api_name(n), "name": n, "description": n, "dataType": kind, "isPrimary": False}
        for n, kind in t.attributes
    ]
    return item
