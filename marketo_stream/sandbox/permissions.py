"""The API user's role: which API areas it may read. A call to an area the role lacks answers 603 "Access denied".

Marketo grants API access through the "Access API" permissions of the API-only user's role and answers a call the
role does not cover with HTTP 200, ``success: false`` and ``603 Access denied``; the call is counted. The sandbox
names an area per permission the sync relies on (``SandboxConfig.denied_permissions``):

    activities      Read-Only Activity (with Read-Only Activity Metadata): REST activities, activity types,
                    bulk activity exports
    leads           Read-Only Lead: leads, lead describes, list and program members, bulk lead and program
                    member exports
    lists           static lists (``/rest/v1/lists.json`` and the Asset API's static lists)
    programs        programs (Asset API)
    assets          every other Asset API read (forms, email templates, emails, folders...)
    campaigns       Read-Only Campaign: smart campaigns (REST and Asset API)
    opportunities   Read-Only Opportunity: opportunities and their roles
    companies       Read-Only Company
    custom_objects  Read-Only Custom Object: custom object listing, describe, query and bulk export

Marketo has no permission of its own for Bulk Extract: an export needs the permission of what it exports. Nor is
usage (``stats/``) or identity ever denied. In Marketo programs and the other assets share Read-Only Assets; the
sandbox lets them be denied apart so that a test can take away one area at a time.
"""

from __future__ import annotations

import re

from marketo_stream.sandbox.envelope import ApiError

_NOT_ASSETS = r"(?!programs?[/.]|staticLists?[/.]|smartCampaigns?[/.])"

AREAS: dict[str, tuple[str, ...]] = {
    "activities": (r"/rest/v1/activities[/.]", r"/bulk/v1/activities/"),
    "leads": (
        r"/rest/v1/leads?[/.]",
        r"/rest/v1/lists?/\d+/leads\.json",
        r"/rest/v1/programs/(\d+/)?members[/.]",
        r"/bulk/v1/leads/",
        r"/bulk/v1/program/members/",
    ),
    "lists": (r"/rest/v1/lists(/\d+)?\.json", r"/rest/asset/v1/staticLists?[/.]"),
    "programs": (r"/rest/asset/v1/programs?[/.]",),
    "assets": (r"/rest/asset/v1/" + _NOT_ASSETS,),
    "campaigns": (r"/rest/v1/campaigns[/.]", r"/rest/asset/v1/smartCampaigns?[/.]"),
    "opportunities": (r"/rest/v1/opportunities[/.]",),
    "companies": (r"/rest/v1/companies[/.]",),
    "custom_objects": (r"/rest/v1/customobjects[/.]", r"/bulk/v1/customobjects/"),
}
"""Permission name → the paths (regular expressions matched from the start) that need it."""

PERMISSIONS: tuple[str, ...] = tuple(AREAS)


def check_names(names: tuple[str, ...]) -> None:
    unknown = sorted(set(names) - set(AREAS))
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}; permissions are: {', '.join(PERMISSIONS)}")


class Role:
    """The API user's role: every permission but the denied ones."""

    def __init__(self, denied: tuple[str, ...]) -> None:
        check_names(denied)
        self.denied = tuple(denied)
        patterns = [pattern for name in denied for pattern in AREAS[name]]
        self._denied = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def check(self, path: str) -> None:
        """Raises 603 "Access denied" when the role lacks the permission ``path`` needs."""
        if self._denied is not None and self._denied.match(path):
            raise ApiError("603")
