"""Lead fields as ``leads/describe.json`` lists them, and how new values for each are made."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from typing import Any

from marketo_stream.sandbox.world import names


@dataclasses.dataclass(frozen=True)
class LeadField:
    id: int
    name: str
    display: str
    data_type: str
    length: int | None = None
    updateable: bool = True
    custom: bool = False


LEAD_FIELDS: tuple[LeadField, ...] = (
    LeadField(1, "id", "Id", "integer", updateable=False),
    LeadField(2, "email", "Email Address", "email", 255),
    LeadField(3, "firstName", "First Name", "string", 255),
    LeadField(4, "lastName", "Last Name", "string", 255),
    LeadField(5, "title", "Job Title", "string", 255),
    LeadField(6, "company", "Company Name", "string", 255),
    LeadField(7, "phone", "Phone Number", "phone", 255),
    LeadField(8, "city", "City", "string", 255),
    LeadField(9, "state", "State", "string", 255),
    LeadField(10, "country", "Country", "string", 255),
    LeadField(11, "leadSource", "Lead Source", "string", 255),
    LeadField(12, "leadStatus", "Lead Status", "string", 255),
    LeadField(13, "leadScore", "Lead Score", "integer"),
    LeadField(14, "unsubscribed", "Unsubscribed", "boolean"),
    LeadField(15, "createdAt", "Created At", "datetime", updateable=False),
    LeadField(16, "updatedAt", "Updated At", "datetime", updateable=False),
    LeadField(17, "externalCompanyId", "External Company Id", "string", 100),
    LeadField(501, "customerTier", "Customer Tier", "string", 255, custom=True),
    LeadField(502, "preferredLanguage", "Preferred Language", "string", 255, custom=True),
    LeadField(503, "annualBudget", "Annual Budget", "currency", custom=True),
    LeadField(504, "npsScore", "NPS Score", "integer", custom=True),
    LeadField(505, "newsletterOptIn", "Newsletter Opt In", "boolean", custom=True),
    LeadField(506, "trialEndsAt", "Trial Ends At", "datetime", custom=True),
    LeadField(507, "lastPurchaseDate", "Last Purchase Date", "date", custom=True),
    LeadField(508, "interestNotes", "Interest Notes", "text", custom=True),
)
FIELD_BY_NAME = {f.name: f for f in LEAD_FIELDS}
SEARCHABLE = ("id", "email", "leadSource", "customerTier", "externalCompanyId", "company")

# Fields that Change Data Value activities update during a lead's life.
UPDATED_FIELDS = (
    "title",
    "phone",
    "city",
    "leadStatus",
    "customerTier",
    "preferredLanguage",
    "annualBudget",
    "npsScore",
    "newsletterOptIn",
    "interestNotes",
    "lastPurchaseDate",
)


def new_value(field: str, r: random.Random, at: int) -> object:
    """A plausible value for a field; text values carry the CSV-hostile characters real data has."""
    if field == "title":
        return r.choice(names.TITLES) or None
    if field == "phone":
        return f"+1 312 555 {r.randrange(1000, 9999)}"
    if field == "city":
        return r.choice(names.CITIES)[0]
    if field == "leadStatus":
        return r.choice(names.LEAD_STATUSES)
    if field == "customerTier":
        return r.choice(names.TIERS)
    if field == "preferredLanguage":
        return r.choice(names.LANGUAGES)
    if field == "annualBudget":
        return round(r.uniform(1000, 250000), 2)
    if field == "npsScore":
        return r.randrange(0, 11)
    if field == "newsletterOptIn":
        return r.random() < 0.5
    if field == "lastPurchaseDate":
        return at - r.randrange(0, 90) * 86_400
    if field == "interestNotes":
        return r.choice(
            (
                'Asked about "enterprise" pricing, then left',
                "Line one\r\nline two, with a comma",
                "Prefers email; no calls",
                "Käufer aus München — wants a demo",
                None,
            )
        )
    raise KeyError(field)


ADDABLE_TYPES = ("string", "text", "integer", "boolean", "currency", "float", "datetime", "date")


class FieldError(ValueError):
    """A field that cannot be added (taken name, unknown type); the message says which."""


class LeadFieldSet:
    """The lead fields of one world: the built-in ones plus those an admin added while the sandbox runs.

    An added field exists from the simulated instant it was added; a lead holds a value for it once the lead
    was created or updated after that instant (as if filled by whatever changed the lead), else null. Values
    come from the world's seed, the field and the lead's update, so every API and the truth agree on them.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.added: dict[str, float] = {}
        self._rebuild(list(LEAD_FIELDS))

    def _rebuild(self, fields: list[LeadField]) -> None:
        self.all: tuple[LeadField, ...] = tuple(fields)
        self.by_name: dict[str, LeadField] = {f.name: f for f in fields}

    def add(self, name: str, display: str, data_type: str, at: float) -> LeadField:
        if not name or not name.replace("_", "").isalnum() or not name[0].isalpha():
            raise FieldError(f"field name {name!r} must start with a letter and hold letters, digits or _")
        if name in self.by_name:
            raise FieldError(f"lead field {name!r} exists already")
        if data_type not in ADDABLE_TYPES:
            raise FieldError(f"dataType {data_type!r} is not one of {', '.join(ADDABLE_TYPES)}")
        field = LeadField(max(f.id for f in self.all) + 1, name, display or name, data_type, custom=True)
        self.added[name] = at
        self._rebuild([*self.all, field])
        return field

    def clear_added(self) -> None:
        self.added.clear()
        self._rebuild(list(LEAD_FIELDS))

    def value(self, raw: Mapping[str, Any], name: str) -> Any:
        """The raw (epoch seconds for times) value of a field of a lead as the snapshot holds it."""
        added_at = self.added.get(name)
        if added_at is None:
            return raw.get(name)
        changed = raw.get("updatedAt") or raw.get("createdAt") or 0
        if changed < added_at:
            return None
        r = random.Random(f"{self._seed}:{name}:{raw.get('id')}:{changed}")
        kind = self.by_name[name].data_type
        if kind in ("string", "text"):
            return f"{self.by_name[name].display} {r.choice(names.TIERS)} {r.randrange(100)}"
        if kind == "integer":
            return r.randrange(0, 1000)
        if kind == "boolean":
            return r.random() < 0.5
        if kind in ("currency", "float"):
            return round(r.uniform(0, 10000), 2)
        return int(changed)  # datetime and date: when the value was set
