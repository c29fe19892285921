"""Bulk Extract routes for leads, activities, program members and custom objects (``/bulk/v1``)."""

from __future__ import annotations

import re
from pathlib import Path

from marketo_stream.sandbox import paging
from marketo_stream.sandbox.bulk.requests import parse_request
from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Handler, Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.world.world import CUSTOM_OBJECT

_OBJECT = r"/bulk/v1/(?P<object>leads|activities|program/members|customobjects/(?P<co>[^/]+))/export"
_KINDS = {"leads": "leads", "activities": "activities", "program/members": "program_members"}


def _kind(match: re.Match[str]) -> tuple[str, str]:
    if match["co"] is not None:
        if match["co"] != CUSTOM_OBJECT:
            raise ApiError("1003", f"Custom object '{match['co']}' not found")
        return "customobject", match["co"]
    return _KINDS[match["object"]], ""


def routes(state: SandboxState) -> Router:
    router = Router()
    config = state.config

    def create(request: Request, match: re.Match[str]) -> Response:
        kind, object_name = _kind(match)
        spec = parse_request(
            kind,
            object_name,
            request.json(),
            max_days=config.export_max_days,
            updated_at_ok=config.lead_updated_at_filter,
            lead_fields=state.world.lead_fields.by_name.keys(),
        )
        failing = [rule.message or "Export failed: internal error" for rule in request.faults if rule.job == "fail"]
        job = state.jobs.create(request.client_id, spec, failing[0] if failing else None)
        return Response.json(success([job]))

    def on_job(operation: str) -> Handler:
        def handle(request: Request, match: re.Match[str]) -> Response:
            kind, object_name = _kind(match)
            export_id = match["id"]
            _apply_faults(request, kind, object_name, export_id)
            action = getattr(state.jobs, operation)
            return Response.json(success([action(request.client_id, kind, object_name, export_id)]))

        return handle

    def file(request: Request, match: re.Match[str]) -> Response:
        kind, object_name = _kind(match)
        export_id = match["id"]
        _apply_faults(request, kind, object_name, export_id)
        path = state.jobs.file(request.client_id, kind, object_name, export_id)
        if path is None:
            return Response.text(404, f"Export file for job {export_id} not found")
        response = _serve(path, request.headers.get("range"), content_type(path.suffix))
        if any(rule.corrupt_body for rule in request.faults) and response.status in (200, 206):
            response.replace_byte = _changed_byte(path, *(response.file_range or (0, path.stat().st_size - 1)))
        return response

    def listing(request: Request, match: re.Match[str]) -> Response:
        kind, object_name = _kind(match)
        statuses = {s.lower().replace("canceled", "cancelled") for s in request.get_list("status")}
        jobs = state.jobs.listing(request.client_id, kind, object_name, statuses)
        chosen, extra = paging.page(
            jobs, request.get("nextPageToken"), paging.batch_size(request.get_int("batchSize", 300))
        )
        extra.pop("moreResult")
        return Response.json(success(chosen, **extra))

    def _apply_faults(request: Request, kind: str, object_name: str, export_id: str) -> None:
        fail = next((r.message or "Export failed: internal error" for r in request.faults if r.job == "fail"), None)
        gone = any(r.job == "file_gone" for r in request.faults)
        if fail or gone:
            state.jobs.mark(request.client_id, kind, object_name, export_id, fail=fail, gone=gone)

    job = _OBJECT + r"/(?P<id>[^/]+)/"
    router.add("POST", _OBJECT + r"/create\.json", create)
    router.add("POST", job + r"enqueue\.json", on_job("enqueue"))
    router.add("GET", job + r"status\.json", on_job("status"))
    router.add("POST", job + r"cancel\.json", on_job("cancel"))
    router.add("GET", job + r"file\.json", file)
    router.add("GET", _OBJECT + r"\.json", listing)
    return router


def _changed_byte(path: Path, first: int, last: int) -> tuple[int, int] | None:
    """A byte to change in ``first..last`` of the file: the middle one, made another ASCII letter or digit (so the
    file stays UTF-8 and its size is kept, and only the checksum tells)."""
    middle = (first + last) // 2
    with path.open("rb") as file:
        file.seek(middle)
        around = file.read(min(4096, last - middle + 1))
    for at, value in enumerate(around):
        if chr(value).isalnum() and value < 0x80:
            return middle + at, ord("7") if value != ord("7") else ord("8")
    return None


def content_type(suffix: str) -> str:
    return {".tsv": "text/tab-separated-values", ".ssv": "text/plain"}.get(suffix, "text/csv") + ";charset=UTF-8"


def _serve(path: Path, header: str | None, kind: str) -> Response:
    size = path.stat().st_size
    response = Response(200, content_type=kind, headers={"Accept-Ranges": "bytes"}, file=path)
    if not header:
        return response
    found = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not found or (not found[1] and not found[2]):
        return response
    if found[1]:
        first = int(found[1])
        last = min(int(found[2]), size - 1) if found[2] else size - 1
    else:
        first, last = max(0, size - int(found[2])), size - 1
    if first >= size or last < first:
        return Response(416, b"", content_type=kind, headers={"Content-Range": f"bytes */{size}"})
    response.status = 206
    response.file_range = (first, last)
    response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
