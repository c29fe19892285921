"""Asset API reads (``/rest/asset/v1``): offset/maxReturn browsing that ends with Marketo's "No assets found"
warning and no ``result``, ``...Z+0000`` timestamps, and approved/draft versions of email templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox.envelope import ApiError, asset_success
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import BadTimestamp, iso_asset, parse
from marketo_stream.sandbox.world import names, records
from marketo_stream.sandbox.world.assets import Asset, Timeline


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    offset = request.get_int("offset", 0)
    max_return = request.get_int("maxReturn", 20)
    if not 1 <= max_return <= 200 or offset < 0:
        raise ApiError("1003", "maxReturn must be between 1 and 200 and offset not negative")
    return Response.json(asset_success(items[offset : offset + max_return]))


def _updated_between(request: Request) -> Callable[[Timeline, float], bool]:
    try:
        earliest = parse(request.get("earliestUpdatedAt") or "1970-01-01T00:00:00Z")
        latest = parse(request.get("latestUpdatedAt") or "2999-01-01T00:00:00Z")
    except BadTimestamp as exc:
        raise ApiError("704") from exc
    return lambda when, t: earliest <= when.updated_at(t) <= latest or earliest <= when.created <= latest


def routes(state: SandboxState) -> Router:
    router = Router()
    a = state.world.assets

    def now() -> float:
        return state.clock.now()

    def programs(request: Request, _: re.Match[str]) -> Response:
        t, in_range = now(), _updated_between(request)
        found = [p for p in a.programs if p.when.exists(t) and in_range(p.when, t)]
        filter_type, values = request.get("filterType"), set(request.get_list("filterValues"))
        if filter_type:
            key = {"id": "id", "programId": "id", "folderId": "folder", "workspace": "workspace"}.get(filter_type)
            if key is None:
                raise ApiError("1003", f"Invalid filterType '{filter_type}'")
            found = [p for p in found if str(getattr(p, key, "Default")) in values]
        return _page(request, [records.program(p, t, a, iso_asset) for p in found])

    def program(request: Request, match: re.Match[str]) -> Response:
        t = now()
        found = [p for p in a.programs if p.when.exists(t) and _matches(p.id, p.name, match, request)]
        return Response.json(asset_success([records.program(p, t, a, iso_asset, detail=True) for p in found]))

    def smart_campaigns(request: Request, match: re.Match[str]) -> Response:
        t, in_range = now(), _updated_between(request)
        found = [
            c
            for c in a.campaigns
            if c.when.exists(t) and in_range(c.when, t) and _matches(c.id, c.name, match, request)
        ]
        active = request.get("isActive")
        if active in ("true", "false"):
            found = [c for c in found if bool(c.get("trigger")) == (active == "true")]
        return _page(request, [records.smart_campaign(c, t, a, iso_asset) for c in found])

    def tag_types(request: Request, match: re.Match[str]) -> Response:
        found = [
            {"tagType": tag, "applicableProgramTypes": "[program,email_batch,nurture,event,webinar]",
             "required": index == 0, "allowableValues": "[" + ", ".join(values) + "]"}
            for index, (tag, values) in enumerate(names.TAG_TYPES)
            if match["by"] is None or tag == request.get("name")
        ]  # fmt: skip
        if match["by"] is None:
            found = [{k: v for k, v in item.items() if k != "allowableValues"} for item in found]
        return _page(request, found)

    def channels(request: Request, match: re.Match[str]) -> Response:
        found = []
        for index, (name, kind, statuses) in enumerate(names.CHANNELS):
            if match["by"] is not None and name != request.get("name"):
                continue
            steps = [{"name": s, "step": n * 10, "description": None, "hidden": False,
                      "success": s in names.SUCCESS_STATUSES} for n, s in enumerate(statuses)]  # fmt: skip
            created = iso_asset(state.world.origin - 500 * 86400)
            found.append({"id": index + 1, "name": name, "applicableProgramType": kind, "progressionStatuses": steps,
                          "createdAt": created, "updatedAt": created})  # fmt: skip
        return _page(request, found)

    def email_templates(request: Request, match: re.Match[str]) -> Response:
        t, status = now(), (request.get("status") or "").lower()
        with state.listings_lock:
            state.template_listings.add((int(t), status))
        found = []
        for x in a.templates:
            if x.created > t or not _matches(x.id, x.name, match, request):
                continue
            approved, draft = records.template_versions(x, t)
            shown = {"approved": approved, "draft": draft}.get(status, approved or draft)
            if shown is not None:
                found.append(records.template(x, shown, t, a, iso_asset))
        return _page(request, found)

    def browse(
        items: tuple[Asset, ...], shape: Callable[..., dict[str, Any]] = records.simple_asset
    ) -> Callable[[Request, re.Match[str]], Response]:
        def handle(request: Request, match: re.Match[str]) -> Response:
            t, in_range = now(), _updated_between(request)
            found = [
                x for x in items if x.when.exists(t) and in_range(x.when, t) and _matches(x.id, x.name, match, request)
            ]
            return _page(request, [shape(x, t, a, iso_asset) for x in found])

        return handle

    def static_lists(request: Request, match: re.Match[str]) -> Response:
        t, in_range = now(), _updated_between(request)
        found = []
        for x in a.lists:
            if x.when.exists(t) and in_range(x.when, t) and _matches(x.id, x.name, match, request):
                record = records.simple_asset(x, t, a, iso_asset)
                record["folder"] = {"id": x.program or 100, "type": "Program" if x.program else "Folder"}
                record["computedUrl"] = record.pop("url")
                found.append(record)
        return _page(request, found)

    def segments(request: Request, match: re.Match[str]) -> Response:
        t = now()
        owner = [x for x in a.segmentations if x.id == int(match["id"])]
        values = ("AMER", "EMEA", "APAC") if owner and owner[0].name == "Region" else ("Small", "Mid", "Large")
        found = [
            {"id": owner[0].id * 10 + n, "name": v, "description": "", "createdAt": iso_asset(owner[0].when.created),
             "updatedAt": iso_asset(owner[0].when.updated_at(t)), "url": None, "segmentationId": owner[0].id}
            for n, v in enumerate(values)
        ] if owner else []  # fmt: skip
        return _page(request, found)

    def folders(request: Request, _: re.Match[str]) -> Response:
        found = [{"id": fid, "name": name, "folderId": {"id": fid, "type": "Folder"}, "type": "Folder",
                  "workspace": "Default", "isSystem": False} for fid, name in a.folders.items()]  # fmt: skip
        return _page(request, found)

    one = r"(?:(?P<by>/byName)|/(?P<id>\d+))?"
    base = "/rest/asset/v1"
    router.add("GET", base + r"/programs\.json", programs)
    router.add("GET", base + r"/program(?:/(?P<id>\d+)|(?P<by>/byName))\.json", program)
    router.add("GET", base + r"/smartCampaigns?" + one + r"\.json", smart_campaigns)
    router.add("GET", base + r"/tagTypes?(?P<by>/byName)?\.json", tag_types)
    router.add("GET", base + r"/channels?(?P<by>/byName)?\.json", channels)
    router.add("GET", base + r"/emailTemplates?" + one + r"\.json", email_templates)
    router.add("GET", base + r"/emails?" + one + r"\.json", browse(a.emails, records.email))
    router.add("GET", base + r"/forms?" + one + r"\.json", browse(a.forms))
    router.add("GET", base + r"/landingPages?" + one + r"\.json", browse(a.landing_pages))
    router.add("GET", base + r"/segmentation" + one + r"\.json", browse(a.segmentations))
    router.add("GET", base + r"/segmentation/(?P<id>\d+)/segments\.json", segments)
    router.add("GET", base + r"/staticLists?" + one + r"\.json", static_lists)
    router.add("GET", base + r"/folders\.json", folders)
    return router


def _matches(item_id: int, name: str, match: re.Match[str], request: Request) -> bool:
    """By-id and by-name lookups share the browse code; a plain browse matches everything."""
    groups = match.groupdict()
    if groups.get("id"):
        return item_id == int(groups["id"])
    if groups.get("by"):
        return name == request.get("name")
    return True
