"""The instance's assets and CRM objects: programs, lists, campaigns, emails, templates, forms, pages, companies,
opportunities, named accounts. Few enough to hold in memory; each knows when it was created and updated, so what
the API shows depends on the simulated time.
"""

from __future__ import annotations

import bisect
import dataclasses
import random

from marketo_stream.sandbox.timefmt import DAY
from marketo_stream.sandbox.world import names
from marketo_stream.sandbox.world.scale import Scale


@dataclasses.dataclass(frozen=True)
class Timeline:
    """When an asset was created and every later update; ``updated_at(t)`` is the last one not after ``t``."""

    created: int
    updates: tuple[int, ...] = ()

    def exists(self, t: float) -> bool:
        return self.created <= t

    def updated_at(self, t: float) -> int:
        return max([self.created, *(u for u in self.updates if u <= t)])


@dataclasses.dataclass(frozen=True)
class Program:
    id: int
    name: str
    type: str
    channel: str
    statuses: tuple[str, ...]
    folder: int
    when: Timeline
    tags: tuple[tuple[str, str], ...]
    costs: tuple[tuple[str, int, str], ...]

    @property
    def engagement(self) -> bool:
        return self.type == "Engagement"


@dataclasses.dataclass(frozen=True)
class Asset:
    """Lists, campaigns, emails, forms, landing pages, segmentations: an id, a name, an owner program, a timeline."""

    id: int
    name: str
    kind: str
    program: int | None
    when: Timeline
    extra: tuple[tuple[str, object], ...] = ()

    def get(self, key: str, default: object = None) -> object:
        return dict(self.extra).get(key, default)


@dataclasses.dataclass(frozen=True)
class TemplateRevision:
    version: int
    drafted: int
    approved: int


@dataclasses.dataclass(frozen=True)
class EmailTemplate:
    id: int
    name: str
    folder: int
    created: int
    revisions: tuple[TemplateRevision, ...]


class Assets:
    def __init__(self, seed: int, scale: Scale, origin: float, start: float, horizon: float) -> None:
        self._r = random.Random(f"assets:{seed}")
        self.origin, self.start, self.horizon = int(origin), int(start), int(horizon)
        r = self._r
        self.folders = {100 + i: name for i, name in enumerate(("Marketing Activities", "Events", "Nurture", "Ops"))}
        self.programs = tuple(self._program(1001 + i) for i in range(scale.programs))
        self.lists = tuple(self._asset(2001 + i, "list", f"List {i + 1}", program=True) for i in range(scale.lists))
        self.campaigns = tuple(
            self._asset(3001 + i, "campaign", f"Campaign {i + 1}", program=True, extra={"trigger": r.random() < 0.6})
            for i in range(max(4, scale.programs * 2))
        )
        self.emails = tuple(self._asset(4001 + i, "email", f"Email {i + 1}", program=True) for i in range(12))
        self.templates = tuple(self._template(5001 + i) for i in range(scale.email_templates))
        self.emails = self._with_templates(seed, self.emails)
        self.forms = tuple(self._asset(6001 + i, "form", f"Form {i + 1}", program=True) for i in range(5))
        self.landing_pages = tuple(self._asset(7001 + i, "landingPage", f"LP {i + 1}") for i in range(5))
        self.webpages = tuple((8001 + i, page) for i, page in enumerate(names.PAGES))
        self.segmentations = tuple(self._asset(9001 + i, "segmentation", n) for i, n in enumerate(("Region", "Size")))
        self.companies = tuple(self._company(i + 1) for i in range(scale.companies))
        self.opportunities = tuple(self._opportunity(i) for i in range(scale.opportunities))
        self.named_accounts = tuple(self._named_account(i) for i in range(max(3, scale.companies // 10)))
        self.program_by_id = {p.id: p for p in self.programs}
        self._programs_by_birth = tuple(sorted(self.programs, key=lambda p: p.when.created))
        self._program_births = [p.when.created for p in self._programs_by_birth]
        self._lists_by_birth = tuple(sorted(self.lists, key=lambda x: x.when.created))
        self._list_births = [x.when.created for x in self._lists_by_birth]
        self.list_by_id = {a.id: a for a in self.lists}

    def _time(self, future_share: float = 0.0) -> int:
        """Mostly before the world's history begins; a share during it or after the start, so assets appear."""
        r = self._r
        if r.random() < future_share:
            return int(r.uniform(self.origin, min(self.horizon, self.start + 60 * DAY)))
        return int(self.origin - r.uniform(5, 400) * DAY)

    def _timeline(self, future_share: float = 0.0) -> Timeline:
        created = self._time(future_share)
        updates: list[int] = []
        t = created
        while True:
            t += int(self._r.uniform(10, 90) * DAY)
            if t > self.horizon:
                return Timeline(created, tuple(updates))
            updates.append(t)

    def _program(self, pid: int) -> Program:
        r = self._r
        channel, kind, statuses = r.choice(names.CHANNELS)
        program_type = {"event": "Event", "program": "Default", "email": "Email", "nurture": "Engagement"}[kind]
        tags = tuple((tag, r.choice(values)) for tag, values in names.TAG_TYPES)
        costs = tuple(
            (f"2026-{m:02d}-01", r.randrange(100, 5000, 50), r.choice(("Sponsorship", "Ads", ""))) for m in (1, 4)
        )
        name = f"{r.choice(('Q1', 'Q2', 'Spring', 'Autumn', 'EMEA', 'Global'))} {channel} {pid}"
        return Program(
            pid, name, program_type, channel, statuses, r.choice(list(self.folders)), self._timeline(0.2), tags, costs
        )

    def _asset(
        self, aid: int, kind: str, name: str, *, program: bool = False, extra: dict[str, object] | None = None
    ) -> Asset:
        owner = self._r.choice(self.programs).id if program and self.programs else None
        future = 0.2 if kind == "list" else 0.0
        return Asset(aid, name, kind, owner, self._timeline(future), tuple((extra or {}).items()))

    def _with_templates(self, seed: int, emails: tuple[Asset, ...]) -> tuple[Asset, ...]:
        """Each email is built on one template (its ``template``), one that existed when the email was made when
        there is one. A generator of its own, so the rest of the world is what it was before emails had templates."""
        if not self.templates:
            return emails
        r = random.Random(f"email-templates:{seed}")
        found = []
        for email in emails:
            older = [x for x in self.templates if x.created <= email.when.created] or [self.templates[0]]
            found.append(dataclasses.replace(email, extra=(*email.extra, ("template", r.choice(older).id))))
        return tuple(found)

    def _template(self, tid: int) -> EmailTemplate:
        r = self._r
        created = self._time()
        revisions, drafted = [], created
        version = 1
        while drafted <= self.horizon:
            approved = drafted + int(r.uniform(0.5, 3) * DAY)
            revisions.append(TemplateRevision(version, drafted, approved))
            drafted = approved + int(r.uniform(10, 45) * DAY)
            version += 1
        return EmailTemplate(tid, f"Template {tid - 5000}", r.choice(list(self.folders)), created, tuple(revisions))

    def _company(self, cid: int) -> Asset:
        r = self._r
        name = f"{r.choice(names.COMPANY_WORDS)} {r.choice(names.COMPANY_WORDS)} {r.choice(names.COMPANY_SUFFIX)}"
        city, state, country = r.choice(names.CITIES)
        extra = {
            "externalCompanyId": f"EXT-C-{cid:05d}",
            "industry": r.choice(names.INDUSTRIES),
            "numberOfEmployees": r.randrange(5, 20000),
            "annualRevenue": float(r.randrange(1, 900)) * 1e5,
            "billingCity": city,
            "billingState": state,
            "billingCountry": country,
            "website": f"www.company{cid}.example.com",
        }
        return Asset(cid, f"{name} {cid}", "company", None, self._timeline(), tuple(extra.items()))

    def _opportunity(self, index: int) -> Asset:
        r = self._r
        company = r.choice(self.companies) if self.companies else None
        stage = r.choice(("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"))
        extra = {
            "marketoGUID": f"opp-{index + 1:06d}-{r.getrandbits(32):08x}",
            "externalOpportunityId": f"EXT-O-{index + 1:05d}",
            "description": f"Deal {index + 1}",
            "amount": round(r.uniform(1000, 90000), 2),
            "stage": stage,
            "isClosed": stage.startswith("Closed"),
            "isWon": stage == "Closed Won",
            "closeDate": f"2026-{r.randrange(1, 13):02d}-15",
            "externalCompanyId": company.get("externalCompanyId") if company else None,
        }
        return Asset(
            index + 1,
            f"{company.name if company else 'Deal'} - {stage}",
            "opportunity",
            None,
            self._timeline(),
            tuple(extra.items()),
        )

    def _named_account(self, index: int) -> Asset:
        r = self._r
        company = self.companies[index % len(self.companies)] if self.companies else None
        extra = {
            "marketoGUID": f"na-{index + 1:05d}-{r.getrandbits(32):08x}",
            "domainName": f"company{company.id if company else index}.example.com",
            "industry": r.choice(names.INDUSTRIES),
            "annualRevenue": float(r.randrange(1, 900)) * 1e5,
            "numberOfEmployees": r.randrange(5, 20000),
            "city": r.choice(names.CITIES)[0],
        }
        return Asset(
            index + 1,
            company.name if company else f"Account {index}",
            "namedAccount",
            None,
            self._timeline(),
            tuple(extra.items()),
        )

    def programs_at(self, t: float) -> tuple[Program, ...]:
        """The programs that exist at ``t`` (a prefix of the programs in creation order)."""
        return self._programs_by_birth[: bisect.bisect_right(self._program_births, t)]

    def lists_at(self, t: float) -> tuple[Asset, ...]:
        return self._lists_by_birth[: bisect.bisect_right(self._list_births, t)]

    def program_name(self, pid: int | None) -> str:
        program = self.program_by_id.get(pid) if pid else None
        return program.name if program else ""

    def qualified(self, asset: Asset) -> str:
        """``Program.Asset`` naming, as Marketo renders program-local assets in primaryAttributeValue."""
        owner = self.program_name(asset.program)
        return f"{owner}.{asset.name}" if owner else asset.name
