"""A check's result as plain data, the checklist's exit status, and how it is printed (secrets masked)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from marketo_stream.exit_codes import ExitStatus
from marketo_stream.marketo.secrets import redact, remember_secret
from marketo_stream.settings import Settings
from marketo_stream.sink.config import SinkConfig


class Category(Enum):
    CONFIG = "config"
    MARKETO_UNREACHABLE = "marketo_unreachable"
    MARKETO_REFUSED = "marketo_refused"
    KAFKA = "kafka"
    QUOTA = "quota"


EXIT_ORDER: tuple[tuple[Category, ExitStatus], ...] = (
    (Category.CONFIG, ExitStatus.CONFIG),
    (Category.MARKETO_UNREACHABLE, ExitStatus.MARKETO_UNREACHABLE),
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


def scrubbed(checks: Iterable[Check], secrets: Iterable[str]) -> list[Check]:
    """The checks with every known secret masked in what they say (librdkafka and httpx may quote settings)."""
    for value in secrets:
        remember_secret(value)
    return [Check(c.name, c.ok, redact(c.detail), c.category, redact(c.fix), c.warning) for c in checks]


def secrets_of(settings: Settings, config: SinkConfig) -> list[str]:
    found = [settings.marketo.client_secret.get_secret_value()]
    if settings.hash.secret is not None:
        found.append(settings.hash.secret.get_secret_value())
    for key, value in {**config.client_settings(), **config.registry_config}.items():
        if isinstance(value, str) and any(word in key for word in ("password", "secret", "user.info")):
            found.extend([value, value.partition(":")[2]] if key.endswith("user.info") else [value])
    password = urllib.parse.urlsplit(config.registry_url).password
    if password:
        found.append(password)
    return [value for value in found if value]


def mask_url(url: str) -> str:
    """``url`` with any user-info replaced by ``***``."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
