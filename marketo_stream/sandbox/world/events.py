"""The two value types of the world's timeline: an Event (a dated change) and an Activity (its committed record)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

NEVER = math.inf


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """A dated change in the world and the activity that records it (``type_id``, on lead id ``lead``).

    ``effect`` says what it changes, for folding into state: ``("field", name, value)``, ``("list_add", id)``,
    ``("list_remove", id)``, ``("program", id, status, success, acquired, track)``, ``("opp_add", role_guid,
    opp_id, role, primary)``, ``("opp_remove", role_guid)``, ``("deleted",)``, ``("merged", winner_id)``,
    ``("created",)``; empty for activities that change nothing.
    """

    t: int
    type_id: int
    lead: int
    primary_id: int | None
    primary_value: str | None
    attributes: dict[str, Any]
    campaign: int | None
    effect: tuple[Any, ...] = ()
    subject: int = 0  # the lead whose story holds the event (differs from ``lead`` for merges)


@dataclasses.dataclass(frozen=True, slots=True)
class Activity:
    guid: int
    commit: int
    event: Event

    @property
    def date(self) -> int:
        return self.event.t

    @property
    def type_id(self) -> int:
        return self.event.type_id


@dataclasses.dataclass(frozen=True, slots=True)
class Fate:
    end: float  # NEVER when the lead outlives the world
    kind: str  # "alive", "deleted", "merged"
    winner: int | None = None
