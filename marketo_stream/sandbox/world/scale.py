"""World sizes. Counts are what exists at the configured start; the world keeps growing at the same pace after it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Scale:
    leads: int
    history_days: int
    noise_per_day: int
    lists: int
    programs: int
    companies: int
    opportunities: int
    email_templates: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(leads=60, history_days=30, noise_per_day=8, lists=4, programs=5, companies=8, opportunities=6,
                  email_templates=3),
    "small": Scale(leads=400, history_days=120, noise_per_day=12, lists=10, programs=12, companies=40,
                   opportunities=30, email_templates=6),
    "demo": Scale(leads=5_000, history_days=180, noise_per_day=450, lists=25, programs=40, companies=400,
                  opportunities=300, email_templates=15),
    "bench": Scale(leads=100_000, history_days=120, noise_per_day=5_600, lists=40, programs=60, companies=5_000,
                   opportunities=3_000, email_templates=30),
}  # fmt: skip


def scale_named(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; known: {sorted(SCALES)}") from None
