"""Activity types: the standard ones Marketo lists in ``activities/types.json`` plus two custom ones.

Retention follows Marketo's data-retention policy: Delete Lead 14 days; the high-volume types 90 days; New Lead
forever; everything else (custom types included) 25 months.
"""

from __future__ import annotations

import dataclasses
import re

FOREVER = 10**9
HIGH_VOLUME_DAYS = 90
DEFAULT_DAYS = 760  # 25 months
DELETE_LEAD_DAYS = 14


@dataclasses.dataclass(frozen=True)
class ActivityType:
    id: int
    name: str
    description: str
    primary: tuple[str, str] | None
    attributes: tuple[tuple[str, str], ...]
    retention_days: int = DEFAULT_DAYS
    api_name: str | None = None

    @property
    def table(self) -> str:
        """The name a sync publishes this type's table under: ``activity_`` + snake_case of the type name."""
        return "activity_" + re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")

    def as_rest(self) -> dict[str, object]:
        item: dict[str, object] = {"id": self.id, "name": self.name, "description": self.description}
        if self.api_name:
            item["apiName"] = self.api_name
        if self.primary:
            item["primaryAttribute"] = {"name": self.primary[0], "dataType": self.primary[1]}
        item["attributes"] = [{"name": n, "dataType": t} for n, t in self.attributes]
        return item


_KINDS = {"s": "string", "i": "integer", "b": "boolean", "d": "date", "dt": "datetime", "t": "text", "f": "float"}
_KINDS["c"] = "currency"
_MACROS = {
    "@web": "Client IP Address, Query Parameters, Referrer URL, User Agent",
    "@mail": "Campaign Run ID:i, Choice Number:i, Has Predictive:b, Step ID:i, Test Variant:i",
    "@open": "Bot Activity Pattern, Campaign Run ID:i, Choice Number:i, Device, Has Predictive:b, Is Bot Activity:b, "
    "Is Mobile Device:b, Platform, Step ID:i, Test Variant:i, User Agent",
    "@bounce": "Campaign Run ID:i, Category, Choice Number:i, Details, Email, Has Predictive:b, Step ID:i, "
    "Subcategory, Test Variant:i",
}
_RETENTION = {"90": HIGH_VOLUME_DAYS, "14": DELETE_LEAD_DAYS, "forever": FOREVER, "": DEFAULT_DAYS}

# id | name | description | primary attribute | attributes (name[:kind], @macro) | retention
_STANDARD_TABLE = """
1 | Visit Webpage | User visits a web page | Webpage ID:i | Search Engine, Search Query, Webpage URL, @web | 90
2 | Fill Out Form | User fills out and submits a form | Webform ID:i | Form Fields:t, Webpage ID:i, @web |
3 | Click Link | User clicks a link on a page | Link ID:i | Webpage ID:i, @web | 90
6 | Send Email | Send marketing email to a person | Mailing ID:i | @mail | 90
7 | Email Delivered | Marketing email is delivered to a person | Mailing ID:i | @mail | 90
8 | Email Bounced | Marketing email bounces | Mailing ID:i | @bounce |
9 | Unsubscribe Email | Person unsubscribes from marketing emails | Mailing ID:i | Campaign Run ID:i, Form Fields:t, \
    Webform ID:i, Webpage ID:i, @web |
10 | Open Email | Person opens a marketing email | Mailing ID:i | @open |
11 | Click Email | Person clicks a link in a marketing email | Mailing ID:i | Link, Link ID:i, @open |
12 | New Lead | New person/record is added to the lead database | | Created Date:d, Form Name, Lead Source, \
    List Name, SFDC Type, Source Type, API Method Name, Modifying User, Request Id | forever
13 | Change Data Value | Changed attribute value for a person | Attribute Name | New Value, Old Value, Reason, \
    Source, API Method Name, Modifying User, Request Id | 90
19 | Sync Lead to SFDC | Push person to Salesforce | | Assign To, Reason | 90
21 | Convert Lead | Convert a person | | Converted Status, Reason |
22 | Change Score | Change a score field of a person | Attribute Name | Change Value, New Value:i, Old Value:i, \
    Reason | 90
23 | Change Owner | Change the owner of a person | | New Owner, Old Owner, Reason |
24 | Add to List | Add a person to a static list | List ID:i | Source | 90
25 | Remove from List | Remove a person from a static list | List ID:i | Source |
27 | Email Bounced Soft | Marketing email soft bounces | Mailing ID:i | @bounce |
32 | Merge Leads | Merge two or more persons | Lead ID:i | Merge IDs:i, Merged in Sales:b, Merge Source, \
    Master Updated:b |
34 | Add to Opportunity | Add a person to an opportunity | Opportunity ID | Is Primary:b, Role |
35 | Remove from Opportunity | Remove a person from an opportunity | Opportunity ID | Is Primary:b, Role |
36 | Update Opportunity | Update an opportunity | Opportunity ID | Data Type, New Value, Old Value, Reason, \
    Source | 90
37 | Delete Lead | Delete a person from the lead database | Lead ID:i | | 14
38 | Send Alert | Send an alert email about a person | Mailing ID:i | Send To Owner, Send To List |
39 | Send Sales Email | Send a sales email to a person | | Marketo Sales Person ID:i, Sales Campaign Name, \
    Sales Template Name |
46 | Interesting Moment | Interesting moment for a person | | Description, Source, Date:dt, Type |
47 | Request Campaign | Request a smart campaign for a person | Campaign ID:i | Source | 90
100 | Change Lead Partition | Move a person to another partition | Partition ID:i | Old Partition ID:i, Reason |
104 | Change Status in Progression | Change the program status of a person | Program ID:i | Old Status ID:i, \
    New Status ID:i, Old Status, New Status, Acquired By:b, Success:b, Program Member ID:i, Reason |
110 | Call Webhook | Call a webhook for a person | Webhook ID:i | Error Type, Response:t |
113 | Add to Nurture | Add a person to an engagement program | Program ID:i | Track ID:i, Track Name |
114 | Change Nurture Track | Change the nurture track of a person | Program ID:i | New Track ID:i, Track Name, \
    Previous Track ID:i, Previous Track Name |
115 | Change Nurture Cadence | Pause or resume nurture for a person | Program ID:i | New Nurture Cadence, \
    Previous Nurture Cadence |
145 | Push Lead to Marketo | Push a person to Marketo through the API | | API Method Name, Source |
155 | Execute Campaign | Execute a campaign for a person | Campaign ID:i | Used Parent Campaign Token Context:b, \
    Qualified:b |
"""


def _attribute(spec: str) -> tuple[str, str]:
    name, _, kind = spec.strip().partition(":")
    return name.strip(), _KINDS[kind or "s"]


def _parse(table: str) -> tuple[ActivityType, ...]:
    types = []
    for line in table.replace("\\\n", "").strip().splitlines():
        id_, name, description, primary, attributes, retention = (part.strip() for part in line.split("|"))
        for macro, expansion in _MACROS.items():
            attributes = attributes.replace(macro, expansion)
        attrs = tuple(_attribute(a) for a in attributes.split(",") if a.strip())
        types.append(
            ActivityType(
                int(id_), name, description, _attribute(primary) if primary else None, attrs, _RETENTION[retention]
            )
        )
    return tuple(types)


STANDARD: tuple[ActivityType, ...] = _parse(_STANDARD_TABLE)

CUSTOM: tuple[ActivityType, ...] = (
    ActivityType(
        100001,
        "Attend Webinar",
        "Person attended a partner webinar",
        ("Webinar Name", "string"),
        tuple(_attribute(a) for a in ["Minutes Attended:i", " Asked Question:b", " Host", " Rating:f"]),
        api_name="attendWebinar_c",
    ),
    ActivityType(
        100002,
        "Purchase Product",
        "Person bought a product in the web shop",
        ("Product SKU", "string"),
        tuple(_attribute(a) for a in ["Amount:c", " Quantity:i", " Currency Code", " Order Date:dt", " Coupon"]),
        api_name="purchaseProduct_c",
    ),
)

ALL: tuple[ActivityType, ...] = STANDARD + CUSTOM
BY_ID: dict[int, ActivityType] = {t.id: t for t in ALL}
BY_TABLE: dict[str, ActivityType] = {t.table: t for t in ALL}
