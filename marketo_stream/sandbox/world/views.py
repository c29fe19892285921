"""Indexes over the world at one instant, so a REST call finds its rows without walking every lead.

Each keeps the order the plain walk would produce (snapshot order, or sorted where the API sorts), so answers
built from them are the ones the walk gives. Built once per instant (``World.derived``) and shared read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from marketo_stream.sandbox.world.world import World

Record = dict[str, Any]


def members_by_program(world: World, at: float) -> dict[int, list[Record]]:
    """Program id -> its members, in snapshot order."""

    def build() -> dict[int, list[Record]]:
        found: dict[int, list[Record]] = {}
        for (_, program_id), member in world.snapshot(at).program_members.items():
            found.setdefault(program_id, []).append(member)
        return found

    return world.derived(at, "members_by_program", build)


def program_leads(world: World, at: float) -> dict[int, list[tuple[int, Record]]]:
    """Program id -> ``(lead id, member)`` by lead id, the order ``leads/programs/{id}.json`` lists them."""

    def build() -> dict[int, list[tuple[int, Record]]]:
        found: dict[int, list[tuple[int, Record]]] = {}
        for (lead_id, program_id), member in sorted(world.snapshot(at).program_members.items()):
            found.setdefault(program_id, []).append((lead_id, member))
        return found

    return world.derived(at, "program_leads", build)


def sorted_list_members(world: World, at: float) -> dict[int, list[int]]:
    """Static list id -> its member lead ids, ascending."""

    def build() -> dict[int, list[int]]:
        return {list_id: sorted(members) for list_id, members in world.snapshot(at).list_members.items()}

    return world.derived(at, "sorted_list_members", build)


def leads_in_order(world: World, at: float) -> list[Record]:
    return world.derived(at, "leads_in_order", lambda: list(world.snapshot(at).leads.values()))


def matching(
    world: World, at: float, name: str, rows: Callable[[], Sequence[Record]], field: str, values: Iterable[str]
) -> list[Record]:
    """The rows whose ``str(row.get(field))`` is one of ``values``, in their listing order, by an index kept per
    instant for ``name`` and ``field``."""
    listed = rows()

    def build() -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for position, row in enumerate(listed):
            index.setdefault(str(row.get(field)), []).append(position)
        return index

    index = world.derived(at, f"index:{name}:{field}", build)
    positions = sorted(p for value in set(values) for p in index.get(value, ()))
    return [listed[p] for p in positions]
