"""Leads and their life stories: creation, field changes, lists, programs, opportunity roles, then maybe deletion
or a merge into another lead. A story is derived from the seed alone, so any lead can be told on demand.

Lead ids grow with creation time (lead ``i`` is created in the ``i``-th slot of an even spread over the world's
time), which lets "the leads that exist at ``t``" be a prefix.
"""

from __future__ import annotations

import functools
from typing import Any

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import names
from marketo_stream.sandbox.world.assets import Assets
from marketo_stream.sandbox.world.events import NEVER, Event, Fate
from marketo_stream.sandbox.world.fields import new_value
from marketo_stream.sandbox.world.rng import exponential, rng, unit
from marketo_stream.sandbox.world.story import section, tell

LEAD_BASE = 1001
DELETE_SHARE = 0.04
MERGE_SHARE = 0.03


class LeadBook:
    def __init__(self, seed: int, leads_at_start: int, origin: float, start: float, horizon: float, assets: Assets):
        self.seed = seed
        self.origin = origin
        self.horizon = horizon
        self.assets = assets
        self.spacing = (start - origin) / max(1, leads_at_start)
        self.total = int((horizon - origin) / self.spacing)

    # -- identity and time ---------------------------------------------------------------------------------------
    def created(self, index: int) -> int:
        return int(self.origin + (index + 0.9 * unit(self.seed, "created", index)) * self.spacing)

    def count_at(self, t: float) -> int:
        """How many leads have been created by ``t`` (they are indexes ``0 .. count-1``)."""
        if t < self.origin:
            return 0
        guess = min(self.total, int((t - self.origin) / self.spacing) + 1)
        while guess > 0 and self.created(guess - 1) > t:
            guess -= 1
        return guess

    @staticmethod
    def lead_id(index: int) -> int:
        return LEAD_BASE + index

    @staticmethod
    def index_of(lead_id: int) -> int:
        return lead_id - LEAD_BASE

    def fate(self, index: int) -> Fate:
        share = unit(self.seed, "fate", index)
        if share >= DELETE_SHARE + MERGE_SHARE:
            return Fate(NEVER, "alive")
        end = self.created(index) + 60 + int(exponential(self.seed, 45 * DAY, "end", index))
        if end > self.horizon:
            return Fate(NEVER, "alive")
        if share < DELETE_SHARE:
            return Fate(end, "deleted")
        winner = index - 1
        while winner >= 0 and unit(self.seed, "fate", winner) < DELETE_SHARE + MERGE_SHARE:
            winner -= 1
        return Fate(end, "merged", self.lead_id(winner)) if winner >= 0 else Fate(NEVER, "alive")

    def alive(self, index: int, t: float) -> bool:
        return self.created(index) <= t < self.fate(index).end

    # -- the base record ------------------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=8192)  # noqa: B019 - the book lives as long as the world
    def base(self, index: int) -> dict[str, Any]:
        """The lead as created (field name -> raw value; datetimes as epoch seconds)."""
        r = rng(self.seed, "lead", index)
        first, last = r.choice(names.FIRST), r.choice(names.LAST)
        lead_id = self.lead_id(index)
        companies = self.assets.companies
        company = companies[r.randrange(len(companies))] if companies else None
        city, state, country = r.choice(names.CITIES)
        created = self.created(index)
        return {
            "id": lead_id,
            "email": f"{first}.{last}.{lead_id}@example.com".lower(),
            "firstName": first,
            "lastName": last,
            "title": r.choice(names.TITLES) or None,
            "company": company.name if company else None,
            "externalCompanyId": company.get("externalCompanyId") if company else None,
            "phone": f"+1 312 555 {r.randrange(1000, 9999)}" if r.random() < 0.7 else None,
            "city": city,
            "state": state,
            "country": country,
            "leadSource": r.choice(names.LEAD_SOURCES),
            "leadStatus": "New",
            "leadScore": r.randrange(0, 40),
            "unsubscribed": r.random() < 0.05,
            "createdAt": created,
            "updatedAt": created,
            "customerTier": r.choice(names.TIERS) if r.random() < 0.6 else None,
            "preferredLanguage": r.choice(names.LANGUAGES),
            "annualBudget": round(r.uniform(1000, 250000), 2) if r.random() < 0.5 else None,
            "npsScore": r.randrange(0, 11) if r.random() < 0.3 else None,
            "newsletterOptIn": r.random() < 0.4,
            "trialEndsAt": created + r.randrange(7, 45) * DAY if r.random() < 0.3 else None,
            "lastPurchaseDate": None,
            "interestNotes": new_value("interestNotes", r, created) if r.random() < 0.3 else None,
        }

    def full_name(self, index: int) -> str:
        base = self.base(index)
        return f"{base['firstName']} {base['lastName']}"

    # -- the story --------------------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=4096)  # noqa: B019 - the book lives as long as the world
    def story(self, index: int) -> tuple[Event, ...]:
        """Every event of this lead's life that happens before the world's horizon, in time order."""
        return tell(self, index)

    @functools.lru_cache(maxsize=16_384)  # noqa: B019 - the book lives as long as the world
    def section(self, index: int, which: int) -> tuple[Event, ...]:
        """One part of the story (see ``story.SECTIONS``): what a day's activities need, cheaper than the whole."""
        return section(self, index, which)
