"""The state of every lead, list, program membership and opportunity role at one instant: the fold of all lead
stories up to it. This is what entity endpoints page through and what the truth tables are made of.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from marketo_stream.sandbox.world.leads import LeadBook


@dataclasses.dataclass
class Snapshot:
    at: int
    leads: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    gone: dict[int, tuple[int, str]] = dataclasses.field(default_factory=dict)  # lead id -> (when, deleted|merged)
    list_members: dict[int, dict[int, int]] = dataclasses.field(default_factory=dict)  # list -> lead -> since
    program_members: dict[tuple[int, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    opportunity_roles: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # every membership that ever existed by ``at``, so the ones gone since are known (truth deleted_keys)
    ever_list_members: set[tuple[int, int]] = dataclasses.field(default_factory=set)
    ever_program_members: set[tuple[int, int]] = dataclasses.field(default_factory=set)
    ever_roles: set[str] = dataclasses.field(default_factory=set)


def take(book: LeadBook, at: int) -> Snapshot:
    snap = Snapshot(at)
    for index in range(book.count_at(at)):
        lead_id = book.lead_id(index)
        record = dict(book.base(index))
        memberships: dict[int, int] = {}
        programs: dict[int, dict[str, Any]] = {}
        roles: dict[str, dict[str, Any]] = {}
        ended: tuple[int, str] | None = None
        for event in book.story(index):
            if event.t > at:
                break
            ended = _apply(event.effect, event.t, record, memberships, programs, roles, lead_id) or ended
            _remember(snap, event.effect, lead_id)
        if ended:
            snap.gone[lead_id] = ended
            continue
        snap.leads[lead_id] = record
        for list_id, since in memberships.items():
            snap.list_members.setdefault(list_id, {})[lead_id] = since
        for program_id, member in programs.items():
            snap.program_members[(lead_id, program_id)] = member
        snap.opportunity_roles.update(roles)
    return snap


def _remember(snap: Snapshot, effect: tuple[Any, ...], lead_id: int) -> None:
    kind = effect[0] if effect else None
    if kind == "list_add":
        snap.ever_list_members.add((effect[1], lead_id))
    elif kind == "program":
        snap.ever_program_members.add((lead_id, effect[1]))
    elif kind == "opp_add":
        snap.ever_roles.add(effect[1])


def _apply(
    effect: tuple[Any, ...],
    t: int,
    record: dict[str, Any],
    memberships: dict[int, int],
    programs: dict[int, dict[str, Any]],
    roles: dict[str, dict[str, Any]],
    lead_id: int,
) -> tuple[int, str] | None:
    kind = effect[0] if effect else None
    if kind == "field":
        record[effect[1]] = effect[2]
        record["updatedAt"] = t
    elif kind == "list_add":
        memberships[effect[1]] = t
    elif kind == "list_remove":
        memberships.pop(effect[1], None)
    elif kind == "program":
        _, program_id, status, success, acquired, track = effect
        member = programs.setdefault(
            program_id,
            {
                "leadId": lead_id,
                "programId": program_id,
                "membershipDate": t,
                "acquiredBy": acquired,
                "reachedSuccess": False,
                "reachedSuccessDate": None,
                "trackName": track,
                "nurtureCadence": "norm" if track else None,
                "createdAt": t,
            },
        )
        member.update({"statusName": status, "updatedAt": t})
        if success and not member["reachedSuccess"]:
            member.update({"reachedSuccess": True, "reachedSuccessDate": t})
    elif kind == "opp_add":
        _, guid, opportunity_id, role, primary = effect
        roles[guid] = {
            "marketoGUID": guid,
            "leadId": lead_id,
            "opportunityId": opportunity_id,
            "role": role,
            "isPrimary": primary,
            "createdAt": t,
            "updatedAt": t,
        }
    elif kind == "opp_remove":
        roles.pop(effect[1], None)
    elif kind in ("deleted", "merged"):
        return (t, kind)
    return None
