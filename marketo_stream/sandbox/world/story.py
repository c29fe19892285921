"""A lead's life, told from its seed: the events that change it and the lists, programs and deals it touches."""

from __future__ import annotations

import random
from typing import Any, Protocol

from marketo_stream.sandbox.timefmt import DAY, iso_date
from marketo_stream.sandbox.world import names
from marketo_stream.sandbox.world.assets import Assets
from marketo_stream.sandbox.world.events import Event, Fate
from marketo_stream.sandbox.world.fields import FIELD_BY_NAME, UPDATED_FIELDS, new_value
from marketo_stream.sandbox.world.rng import rng, unit


class LeadBook(Protocol):
    """What a story reads of the lead book (``leads.LeadBook``), which tells its leads' stories through this module:
    declared here so that the two modules do not import each other."""

    seed: int
    horizon: float
    assets: Assets

    def created(self, index: int) -> int: ...
    def fate(self, index: int) -> Fate: ...
    def base(self, index: int) -> dict[str, Any]: ...
    def full_name(self, index: int) -> str: ...
    def lead_id(self, index: int) -> int: ...
    def index_of(self, lead_id: int) -> int: ...


SOURCES = ("Marketo Flow Action", "Web service API", "Web form fillout")


SECTIONS = ("new lead", "field changes", "lists", "programs", "opportunity", "end")


def tell(book: LeadBook, index: int) -> tuple[Event, ...]:
    """Every event of the lead's life, in time order."""
    events = [e for which in range(len(SECTIONS)) for e in section(book, index, which)]
    events.sort(key=lambda e: (e.t, e.type_id))
    return tuple(events)


def section(book: LeadBook, index: int, which: int) -> tuple[Event, ...]:
    """One part of the story, with its own random stream, so a day's activities can be told without the rest."""
    r = rng(book.seed, "story", which, index)
    lead = book.lead_id(index)
    start = book.created(index)
    fate = book.fate(index)
    end = min(fate.end, book.horizon)
    if which == 0:
        return (_new_lead(book, index, r),)
    if which == 1:
        events = _field_changes(book, index, r, start, end)
    elif which == 2:
        events = _lists(book, lead, r, start)
    elif which == 3:
        events = _programs(book, lead, r, start)
    elif which == 4:
        events = _opportunity(book, lead, r, start)
    else:
        return _ending(book, index, lead)
    return tuple(e for e in events if e.t < end)


def _ending(book: LeadBook, index: int, lead: int) -> tuple[Event, ...]:
    fate = book.fate(index)
    if fate.kind == "deleted":
        return (Event(int(fate.end), 37, lead, lead, book.full_name(index), {}, None, ("deleted",), lead),)
    if fate.kind == "merged" and fate.winner is not None:
        winner_index = book.index_of(fate.winner)
        attributes = {"Merge IDs": [lead], "Merged in Sales": False, "Merge Source": "Web service API"}
        attributes["Master Updated"] = True
        merge = Event(int(fate.end), 32, fate.winner, fate.winner, book.full_name(winner_index), attributes, None,
                      ("merged", fate.winner), lead)  # fmt: skip
        return (merge,)
    return ()


def _campaign(book: LeadBook, r: random.Random) -> int | None:
    campaigns = book.assets.campaigns
    return r.choice(campaigns).id if campaigns and r.random() < 0.6 else None


def _new_lead(book: LeadBook, index: int, r: random.Random) -> Event:
    base = book.base(index)
    source = r.choice(("New lead", "Web form fillout", "Web service API", "List import"))
    forms = book.assets.forms
    attributes: dict[str, Any] = {
        "Created Date": iso_date(base["createdAt"]),
        "Lead Source": base["leadSource"],
        "Source Type": source,
        "SFDC Type": "Lead",
    }
    if source == "Web form fillout" and forms:
        attributes["Form Name"] = book.assets.qualified(r.choice(forms))
    if source == "Web service API":
        attributes.update({"API Method Name": "syncLead", "Modifying User": "sandbox.api@example.com"})
        attributes["Request Id"] = f"{r.getrandbits(16):x}#{r.getrandbits(40):x}"
    if source == "List import":
        attributes["List Name"] = "Imported contacts.csv"
    lead = base["id"]
    return Event(base["createdAt"], 12, lead, lead, book.full_name(index), attributes, None, ("created",), lead)


def _field_changes(book: LeadBook, index: int, r: random.Random, start: int, end: float) -> list[Event]:
    times = sorted(start + 30 + int(r.expovariate(1 / (25 * DAY))) for _ in range(r.choice((0, 1, 1, 2, 3))))
    if not times:
        return []
    current = dict(book.base(index))
    lead = current["id"]
    events = []
    for t in times:
        name = r.choice(UPDATED_FIELDS)
        old, new = current[name], new_value(name, r, t)
        if new == old or t >= end:
            continue
        current[name] = new
        field = FIELD_BY_NAME[name]
        attributes: dict[str, Any] = {
            "New Value": _text(field.data_type, new),
            "Old Value": _text(field.data_type, old),
        }
        attributes.update(
            {"Reason": r.choice(("Changed by API", "Form fill", "Data management")), "Source": r.choice(SOURCES)}
        )
        events.append(
            Event(t, 13, lead, field.id, field.display, attributes, _campaign(book, r), ("field", name, new), lead)
        )
    return events


def _text(data_type: str, value: object) -> str | None:
    """Change Data Value carries values as strings."""
    if value is None:
        return None
    if data_type == "date" and isinstance(value, int):
        return iso_date(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lists(book: LeadBook, lead: int, r: random.Random, start: int) -> list[Event]:
    events: list[Event] = []
    joined: set[int] = set()
    for _ in range(r.choice((0, 1, 1, 2))):
        t = start + 10 + int(r.expovariate(1 / (10 * DAY)))
        available = [a for a in book.assets.lists_at(t) if a.id not in joined]
        if not available:
            continue
        chosen = r.choice(available)
        joined.add(chosen.id)
        name = book.assets.qualified(chosen)
        source = {"Source": r.choice(SOURCES[:2])}
        events.append(Event(t, 24, lead, chosen.id, name, source, _campaign(book, r), ("list_add", chosen.id), lead))
        if r.random() < 0.3:
            gone = t + 60 + int(r.expovariate(1 / (20 * DAY)))
            events.append(
                Event(gone, 25, lead, chosen.id, name, source, _campaign(book, r), ("list_remove", chosen.id), lead)
            )
    return events


def _programs(book: LeadBook, lead: int, r: random.Random, start: int) -> list[Event]:
    events: list[Event] = []
    joined: set[int] = set()
    for _ in range(r.choice((0, 1, 1, 2))):
        t = start + 20 + int(r.expovariate(1 / (15 * DAY)))
        available = [p for p in book.assets.programs_at(t) if p.id not in joined]
        if not available:
            continue
        program = r.choice(available)
        joined.add(program.id)
        track = (1, "Track A") if program.engagement else None
        if track:
            attrs = {"Track ID": track[0], "Track Name": track[1]}
            events.append(Event(t, 113, lead, program.id, program.name, attrs, _campaign(book, r), (), lead))
        member_id = 100_000 + int(unit(book.seed, "member", lead, program.id) * 9_000_000)
        step, acquired = 0, True
        for _hop in range(r.choice((1, 1, 2, 3))):
            new_step = min(len(program.statuses) - 1, step + r.choice((1, 1, 2)))
            if new_step == step:
                break
            old_status, new_status = program.statuses[step], program.statuses[new_step]
            success = new_status in names.SUCCESS_STATUSES
            attrs = {
                "Old Status ID": step + 1,
                "New Status ID": new_step + 1,
                "Old Status": old_status,
                "New Status": new_status,
                "Acquired By": acquired,
                "Success": success,
                "Program Member ID": member_id,
                "Reason": f"Changed by Campaign {program.name}",
            }
            effect = ("program", program.id, new_status, success, acquired, track[1] if track else None)
            events.append(Event(t, 104, lead, program.id, program.name, attrs, _campaign(book, r), effect, lead))
            step, acquired = new_step, False
            t += 3600 + int(r.expovariate(1 / (12 * DAY)))
    return events


def _opportunity(book: LeadBook, lead: int, r: random.Random, start: int) -> list[Event]:
    opportunities = book.assets.opportunities
    if not opportunities or r.random() >= 0.15:
        return []
    t = start + 600 + int(r.expovariate(1 / (30 * DAY)))
    opportunity = r.choice(opportunities)
    role, primary = r.choice(names.ROLES), r.random() < 0.3
    guid = f"role-{lead}-{opportunity.id}"
    attrs = {"Is Primary": primary, "Role": role}
    events = [
        Event(
            t,
            34,
            lead,
            opportunity.id,
            opportunity.name,
            attrs,
            None,
            ("opp_add", guid, opportunity.id, role, primary),
            lead,
        )
    ]
    if r.random() < 0.2:
        gone = t + 3600 + int(r.expovariate(1 / (30 * DAY)))
        events.append(Event(gone, 35, lead, opportunity.id, opportunity.name, attrs, None, ("opp_remove", guid), lead))
    return events
