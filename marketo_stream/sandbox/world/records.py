"""Entity records in the shapes the REST and Asset APIs return them, rendered for an instant.

``stamp`` renders timestamps: the lead-database style ``...Z`` by default, the asset style ``...Z+0000`` where the
asset API is answering. Truth tables always use ``...Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketo_stream.sandbox.timefmt import iso_z
from marketo_stream.sandbox.world.assets import Asset, Assets, EmailTemplate, Program, TemplateRevision

Stamp = Callable[[float], str]


def program(p: Program, t: float, a: Assets, stamp: Stamp = iso_z, detail: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "description": f"{p.channel} program",
        "createdAt": stamp(p.when.created),
        "updatedAt": stamp(p.when.updated_at(t)),
        "url": f"https://app-sandbox.marketo.com/#PG{p.id}A1",
        "type": p.type,
        "channel": p.channel,
        "folder": {"type": "Folder", "value": p.folder, "folderName": a.folders[p.folder]},
        "status": "on" if p.engagement else "",
        "workspace": "Default",
        "headStart": False,
    }
    if detail:
        record["tags"] = [{"tagType": k, "tagValue": v} for k, v in p.tags]
        record["costs"] = [{"startDate": d, "cost": c, "note": n} for d, c, n in p.costs]
    return record


def static_list(x: Asset, t: float, a: Assets, stamp: Stamp = iso_z) -> dict[str, Any]:
    return {
        "id": x.id,
        "name": x.name,
        "description": f"Static list {x.name}",
        "programName": a.program_name(x.program),
        "workspaceName": "Default",
        "createdAt": stamp(x.when.created),
        "updatedAt": stamp(x.when.updated_at(t)),
    }


def campaign(x: Asset, t: float, a: Assets) -> dict[str, Any]:
    """The lead-database (``/rest/v1/campaigns.json``) shape."""
    trigger = bool(x.get("trigger"))
    return {
        "id": x.id,
        "name": x.name,
        "description": "",
        "type": "trigger" if trigger else "batch",
        "programName": a.program_name(x.program),
        "programId": x.program,
        "workspaceName": "Default",
        "createdAt": iso_z(x.when.created),
        "updatedAt": iso_z(x.when.updated_at(t)),
        "active": trigger,
    }


def smart_campaign(x: Asset, t: float, a: Assets, stamp: Stamp) -> dict[str, Any]:
    """The asset (``smartCampaigns.json``) shape."""
    trigger = bool(x.get("trigger"))
    return {
        "id": x.id,
        "name": x.name,
        "description": "",
        "createdAt": stamp(x.when.created),
        "updatedAt": stamp(x.when.updated_at(t)),
        "folder": {"id": x.program, "type": "Program"},
        "status": "Active" if trigger else "Inactive",
        "type": "trigger" if trigger else "batch",
        "isSystem": False,
        "isActive": trigger,
        "isRequestable": False,
        "isCommunicationLimitEnabled": False,
        "qualificationRuleType": "once",
        "workspace": "Default",
        "smartListId": x.id + 10_000,
        "flowId": x.id + 20_000,
        "parentProgramId": x.program,
        "computedUrl": f"https://app-sandbox.marketo.com/#SC{x.id}A1",
    }


def template_versions(x: EmailTemplate, t: float) -> tuple[TemplateRevision | None, TemplateRevision | None]:
    """(approved revision, draft revision) showing at ``t``; each may be None."""
    approved = draft = None
    for revision in x.revisions:
        if revision.approved <= t:
            approved = revision
        elif revision.drafted <= t:
            draft = revision
    return approved, draft


def template(x: EmailTemplate, revision: TemplateRevision, t: float, a: Assets, stamp: Stamp) -> dict[str, Any]:
    approved = revision.approved <= t
    return {
        "id": x.id,
        "name": x.name,
        "description": f"{x.name}, revision {revision.version}",
        "createdAt": stamp(x.created),
        "updatedAt": stamp(revision.approved if approved else revision.drafted),
        "url": f"https://app-sandbox.marketo.com/#ET{x.id}B2",
        "folder": {"type": "Folder", "value": x.folder, "folderName": a.folders[x.folder]},
        "status": "Approved" if approved else "Draft",
        "workspace": "Default",
        "version": revision.version,
    }


def simple_asset(x: Asset, t: float, a: Assets, stamp: Stamp) -> dict[str, Any]:
    """Emails, forms, landing pages, segmentations: the fields every asset browse returns."""
    record: dict[str, Any] = {
        "id": x.id,
        "name": x.name,
        "description": "",
        "createdAt": stamp(x.when.created),
        "updatedAt": stamp(x.when.updated_at(t)),
        "url": f"https://app-sandbox.marketo.com/#{x.kind[:2].upper()}{x.id}A1",
        "folder": {"type": "Program" if x.program else "Folder", "value": x.program or 100, "folderName": ""},
        "status": "approved",
        "workspace": "Default",
    }
    if x.program:
        record["folder"]["folderName"] = a.program_name(x.program)
    return record


def email(x: Asset, t: float, a: Assets, stamp: Stamp) -> dict[str, Any]:
    """An email (asset ``emails.json``): the browse fields plus the id of the template it is built on and the
    editor generation (``version``, 1 or 2), as marketo-api.md lists them."""
    record = simple_asset(x, t, a, stamp)
    record.update(
        subject={"type": "Text", "value": x.name},
        operational=False,
        textOnly=False,
        template=x.get("template"),
        version=2,
    )
    return record


def crm(x: Asset, t: float, id_field: str) -> dict[str, Any]:
    """Companies, opportunities, named accounts: their fields plus ``createdAt``/``updatedAt``."""
    extra = dict(x.extra)
    key = {"id": x.id} if id_field == "id" else {"marketoGUID": extra.pop("marketoGUID")}
    name_field = "company" if x.kind == "company" else "name"
    return {**key, name_field: x.name, **extra, "createdAt": iso_z(x.when.created),
            "updatedAt": iso_z(x.when.updated_at(t))}  # fmt: skip


def opportunity_role(role: dict[str, Any], a: Assets) -> dict[str, Any]:
    opportunity = a.opportunities[role["opportunityId"] - 1]
    return {
        "marketoGUID": role["marketoGUID"],
        "externalOpportunityId": opportunity.get("externalOpportunityId"),
        "leadId": role["leadId"],
        "role": role["role"],
        "isPrimary": role["isPrimary"],
        "externalCreatedDate": iso_z(role["createdAt"]),
        "createdAt": iso_z(role["createdAt"]),
        "updatedAt": iso_z(role["updatedAt"]),
    }


def program_member(member: dict[str, Any], a: Assets) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return iso_z(value) if value is not None else None

    return {
        "leadId": member["leadId"],
        "programId": member["programId"],
        "program": a.program_name(member["programId"]),
        "statusName": member["statusName"],
        "membershipDate": stamp(member["membershipDate"]),
        "reachedSuccess": member["reachedSuccess"],
        "reachedSuccessDate": stamp(member["reachedSuccessDate"]),
        "acquiredBy": member["acquiredBy"],
        "isExhausted": False,
        "nurtureCadence": member["nurtureCadence"],
        "trackName": member["trackName"],
        "createdAt": stamp(member["createdAt"]),
        "updatedAt": stamp(member["updatedAt"]),
    }
