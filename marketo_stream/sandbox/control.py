"""The ``/_sandbox`` control plane: clock, faults, requests, stats, lead fields, reset, ground truth. Never counted.

It sits beside ``api`` rather than in it: it is not Marketo's API, and it reads the ground truth (``truth``), which
itself reads the API's answers; inside ``api`` the two packages would import each other."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from marketo_stream.sandbox.clock import ClockError
from marketo_stream.sandbox.faults import parse_rules
from marketo_stream.sandbox.http import Request, Response, Router
from marketo_stream.sandbox.state import SandboxState
from marketo_stream.sandbox.timefmt import DAY, BadTimestamp, iso_z, parse
from marketo_stream.sandbox.truth import UnknownTable, table_names, truth
from marketo_stream.sandbox.world.activitylog import GUID_STRIDE
from marketo_stream.sandbox.world.fields import FieldError
from marketo_stream.sandbox.world.live import LIVE_GUIDS


def routes(state: SandboxState) -> Router:
    router = Router()

    def clock(request: Request, _: re.Match[str]) -> Response:
        if request.method == "POST":
            body = request.json()
            try:
                if "advance_seconds" in body:
                    state.clock.advance(float(body["advance_seconds"]))
                elif "set" in body:
                    state.clock.set(parse(str(body["set"])))
                else:
                    return _bad("expected advance_seconds or set")
            except (ClockError, BadTimestamp, ValueError) as exc:
                return _bad(str(exc))
        return _ok({"now": iso_z(state.clock.now()), "epoch": state.clock.now()})

    def faults(request: Request, _: re.Match[str]) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            try:
                state.faults.add(parse_rules(request.json()))
            except (TypeError, ValueError, re.error) as exc:
                return _bad(str(exc))
        return _ok({"faults": state.faults.describe()})

    def requests(request: Request, _: re.Match[str]) -> Response:
        entries = state.log.entries(since=request.get_int("since", 0), path=request.get("path"))
        return _ok({"requests": entries})

    def stats(request: Request, _: re.Match[str]) -> Response:
        return _ok(_stats(state))

    def bulk(request: Request, _: re.Match[str]) -> Response:
        if request.method == "POST":
            changes = request.json()
            names = {
                "other_processing_jobs": "processing",
                "other_queued_jobs": "queued",
                "other_export_mb_used": "mb_used",
            }
            unknown = set(changes) - set(names)
            if unknown:
                return _bad(f"unknown settings {sorted(unknown)}; known: {sorted(names)}")
            for key, value in changes.items():
                state.jobs.others[names[key]] = float(value) if key == "other_export_mb_used" else int(value)
        return _ok(state.jobs.stats())

    def truth_table(request: Request, match: re.Match[str]) -> Response:
        if not match["table"]:
            return _ok({"tables": table_names()})
        try:
            return _ok(truth(state, match["table"], with_records=request.get("records", "true") != "false"))
        except UnknownTable as exc:
            return Response.json({"error": str(exc.args[0])}, status=404)

    def lead_fields(request: Request, _: re.Match[str]) -> Response:
        if request.method == "POST":
            body = request.json()
            try:
                state.world.lead_fields.add(
                    str(body.get("name") or ""),
                    str(body.get("displayName") or ""),
                    str(body.get("dataType") or "string"),
                    state.clock.now(),
                )
            except FieldError as exc:
                return _bad(str(exc))
        known = state.world.lead_fields
        added = [{**dataclasses.asdict(known.by_name[name]), "added_at": iso_z(at)} for name, at in known.added.items()]
        return _ok({"added": added})

    def live_activities(request: Request, _: re.Match[str]) -> Response:
        """POST ``{"per_minute", "minutes", "types"?, "start"?}`` adds a steady stream of activities (from now by
        default); GET lists the added ones committed by now, with their commit (when REST can first see them)."""
        log = state.world.log
        if request.method == "POST":
            body = request.json()
            try:
                start = parse(str(body["start"])) if body.get("start") else state.clock.now()
                types = [int(t) for t in body.get("types") or ()] or None
                log.add_live(start, float(body["per_minute"]), float(body["minutes"]), types)
            except (KeyError, TypeError, ValueError, BadTimestamp) as exc:
                return _bad(f"expected per_minute and minutes (and optionally types, start): {exc}")
        return _ok({"now": iso_z(state.clock.now()), "activities": live_committed(state)})

    def reset(request: Request, _: re.Match[str]) -> Response:
        state.reset()
        return _ok({"now": iso_z(state.clock.now())})

    router.add("GET POST", r"/_sandbox/clock", clock)
    router.add("GET POST DELETE", r"/_sandbox/faults", faults)
    router.add("GET DELETE", r"/_sandbox/requests", requests)
    router.add("GET", r"/_sandbox/stats", stats)
    router.add("POST", r"/_sandbox/reset", reset)
    router.add("GET POST", r"/_sandbox/bulk", bulk)
    router.add("GET POST", r"/_sandbox/lead-fields", lead_fields)
    router.add("GET POST", r"/_sandbox/activities", live_activities)
    router.add("GET", r"/_sandbox/truth(?:/(?P<table>[a-z0-9_]+))?", truth_table)
    return router


def live_committed(state: SandboxState) -> list[dict[str, Any]]:
    """The added activities committed by now: GUID, type, activity date and commit time (epoch seconds)."""
    now = state.clock.now()
    log = state.world.log
    found = []
    for day in sorted({event.t // DAY for event in log.live.all_events()}):
        for activity in log.day(day):
            if activity.guid % GUID_STRIDE > LIVE_GUIDS and activity.commit <= now:
                found.append(
                    {
                        "guid": str(activity.guid),
                        "type": activity.type_id,
                        "date": activity.date,
                        "commit": activity.commit,
                    }
                )
    return found


def _stats(state: SandboxState) -> dict[str, Any]:
    limits = state.limits
    now = iso_z(state.clock.now())
    preparation = state.preparation
    return {
        "now": now,
        "calls_today": limits.counted_today(),
        "in_flight": limits.calls_in_flight(),
        **state.jobs.stats(),
        "prepared": preparation.as_json() if preparation is not None else None,
    }


def _ok(payload: dict[str, Any]) -> Response:
    return Response.json(payload)


def _bad(message: str) -> Response:
    return Response.json({"error": message}, status=400)
