"""A check's result as plain data, the checklist's exit status, and how it is printed (secrets masked)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.secrets import redact


class Category(Enum):
    CONFIG = "config"
    MARKETO_UNREACHABLE = "marketo_unreachable"
    MARKETO_REFUSED = "marketo_refused"
    KAFKA = "kafka"
    QUOTA = "quota"


EXIT_ORDER: tuple[tuple[Category, ExitStatus], ...] = (
    (Category.CONFIG, ExitStatus.CONFIG),
    (Category.MARKETO_UNREACHABLE, ExitStatus.MARKETO_UNAVAILABLE),
    (Category.MARKETO_REFUSED, ExitStatus.MARKETO),
    (Category.KAFKA, ExitStatus.KAFKA),
    (Category.QUOTA, ExitStatus.QUOTA),
)
"""The exit status of a checklist: the first category with a failed check, in this order; 0 when none failed."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    category: Category
    fix: str = ""
    warning: bool = False
    """Passed, but worth a look (a registry compatibility level other than BACKWARD/FULL, a quota nearly spent)."""


def exit_status(checks: Iterable[Check]) -> ExitStatus:
    failed = {check.category for check in checks if not check.ok}
    return next((status for category, status in EXIT_ORDER if category in failed), ExitStatus.OK)


def render(checks: Iterable[Check]) -> str:
    lines = []
    for check in checks:
        mark = "✓" if check.ok and not check.warning else ("!" if check.ok else "✗")
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix and (not check.ok or check.warning):
            lines.append(f"    fix: {check.fix}")
    return "\n".join(lines)


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {
        "ok": all(check.ok for check in checks),
        "exit_status": int(exit_status(checks)),
        "checks": [{**asdict(check), "category": check.category.value} for check in checks],
    }


def scrubbed(checks: Iterable[Check]) -> list[Check]:
    """The checks with every secret masked in what they say (librdkafka and httpx may quote settings); the
    settings' secrets were remembered when they were loaded."""
    return [Check(c.name, c.ok, redact(c.detail), c.category, redact(c.fix), c.warning) for c in checks]
