"""Everything about the sandbox that a test or a user may want to change, with Marketo's defaults.

A config file (``--config``) is JSON or TOML whose keys are the field names below; ``faults`` there is a list of
fault rules in the format of ``faults.py``.
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.faults import FaultRule, parse_rules
from marketo_stream.sandbox.permissions import check_names
from marketo_stream.sandbox.timefmt import BadTimestamp, iso_z, parse

PINNED_START = "2026-11-02T15:00:00Z"
"""The start the repository's tests, benchmarks and fixtures pin (``--start``), so their worlds never move."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """Limits default to what Marketo documents; the quirks default to Marketo's habits."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    scale: str = "small"
    start: str = ""
    """Simulated time at start (ISO-8601); empty = the machine's now, whole seconds, as a real instance would be."""
    clock_speed: float = 1.0
    client_id: str = ""
    client_secret: str = ""
    extra_clients: tuple[tuple[str, str], ...] = ()
    api_user: str = "sandbox.api@example.com"
    denied_permissions: tuple[str, ...] = ()
    """Permissions the API user's role lacks (names in ``permissions.py``): their calls answer 603 Access denied."""
    # identity
    token_ttl_seconds: int = 3600
    accept_query_token: bool = True
    # REST limits
    rate_limit_calls: int = 100
    rate_limit_window_seconds: float = 20.0
    concurrency_limit: int = 10
    daily_quota: int = 50_000
    leads_filter_max_matches: int = 1000
    # Bulk Extract
    bulk_processing_slots: int = 2
    bulk_queue_limit: int = 10
    export_daily_quota_mb: float = 500.0
    export_max_days: int = 31
    export_file_retention_days: float = 7.0
    export_status_retention_days: float = 30.0
    export_list_days: float = 7.0
    status_refresh_seconds: float = 60.0
    job_duration_seconds: float = 120.0
    job_write_wait_seconds: float = 10.0
    other_processing_jobs: int = 0
    other_queued_jobs: int = 0
    other_export_mb_used: float = 0.0
    lead_updated_at_filter: bool = True
    malformed_rows: tuple[tuple[int, str], ...] = ()
    """``(record number, kind)``: that record of every export of ``malformed_exports`` is broken (``malformed.py``)."""
    malformed_exports: tuple[str, ...] = ("activities",)
    """The export kinds ``malformed_rows`` breaks: ``activities``, ``leads``, ``program_members``, ``customobject``."""
    # REST paging habits
    empty_page_probability: float = 0.1
    omit_empty_result: bool = True
    # the world
    late_commit_probability: float = 0.03
    late_commit_max_seconds: int = 6 * 3600
    future_days: int = 365
    data_dir: str = ""
    # preparation (see prepare.py): every activity derived and rendered, the start instant folded, before serving
    prepare_exports: bool = False
    prepare_cache_dir: str = ""  # where prepared worlds are kept between runs; "" = a directory in the temp dir
    faults: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        check_names(self.denied_permissions)
        unknown = sorted(set(self.malformed_exports) - {"activities", "leads", "program_members", "customobject"})
        if unknown:
            raise ValueError(f"malformed_exports: unknown export kinds {unknown}")
        if not self.start:  # resolved once, so a reset and every part of the sandbox share the same start
            object.__setattr__(self, "start", iso_z(int(time.time())))
        try:
            parse(self.start)
        except BadTimestamp as exc:
            raise ValueError(f"start must be an ISO-8601 instant such as {PINNED_START}, not {self.start!r}") from exc

    def replace(self, **changes: Any) -> SandboxConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> SandboxConfig:
        return cls.from_mapping({**load_mapping(path), **overrides})

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> SandboxConfig:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown sandbox settings {unknown}; known: {sorted(known)}")
        converted = dict(values)
        if "faults" in converted:
            converted["faults"] = parse_rules(converted["faults"])
        if "extra_clients" in converted:
            converted["extra_clients"] = tuple(tuple(pair) for pair in converted["extra_clients"])
        if "malformed_rows" in converted:
            converted["malformed_rows"] = tuple((int(n), str(k)) for n, k in converted["malformed_rows"])
        if "malformed_exports" in converted:
            kinds = converted["malformed_exports"]
            converted["malformed_exports"] = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        if "denied_permissions" in converted:
            denied = converted["denied_permissions"]
            converted["denied_permissions"] = (denied,) if isinstance(denied, str) else tuple(denied)
        return cls(**converted)


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Reads a JSON or TOML file (by extension) into a dict."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    loaded: Any = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{file} must hold an object of settings")
    return loaded
