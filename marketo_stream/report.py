"""What a person sees: progress while a sync runs, and the summary at its end.

On a terminal, progress is one line rewritten in place; elsewhere (CI logs, cron mail) every step is its own
plain line with a timestamp, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None, quiet: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._interactive = self._stream.isatty() if interactive is None else interactive
        self._quiet = quiet
        self._live = False
        self._started = time.monotonic()

    def step(self, message: str) -> None:
        """A milestone: always its own line."""
        if self._quiet:
            return
        self._clear()
        self._stream.write(f"{self._stamp()} {message}\n")
        self._stream.flush()

    def update(self, message: str) -> None:
        """A running count: rewritten in place on a terminal, dropped from plain logs unless it is a milestone."""
        if self._quiet or not self._interactive:
            return
        self._stream.write(f"\r\x1b[2K{self._stamp()} {message}")
        self._stream.flush()
        self._live = True

    def _clear(self) -> None:
        if self._live:
            self._stream.write("\r\x1b[2K")
            self._live = False

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self._started:7.1f}s]"


@dataclass
class SyncSummary:
    """What one run did, filled in by the sync as it goes; :meth:`as_json` is the data, :meth:`render` prints it
    and ``metrics.record_run`` exports it, so the three never disagree.

    ``records`` and ``tombstones`` are keyed by table (the topic is ``<prefix>.<table>``). The fields after
    ``outcome`` are figures the phases report for operating the sync (metrics); each stays empty/``None`` until
    a phase fills it and is then shown in the summary too.
    """

    started: datetime
    finished: datetime | None = None
    records: Counter[str] = field(default_factory=Counter)
    tombstones: Counter[str] = field(default_factory=Counter)
    api_calls: dict[str, int] = field(default_factory=dict)
    bulk_bytes: int = 0
    windows_done: int = 0
    windows_left: int = 0
    newest_activity: datetime | None = None
    oldest_activity_window: datetime | None = None
    rejected_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    outcome: str = "completed"
    bytes: Counter[str] = field(default_factory=Counter)
    """Serialized bytes (key + value) published per table."""
    api_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(endpoint, Marketo error code) -> calls answered with that code; part of ``api_calls``."""
    calls_today: int | None = None
    """Marketo API calls used today by every integration (``stats/usage.json``), as last read."""
    calls_budget: int | None = None
    export_mb_today: float | None = None
    """Bulk export MB used today by this API user's jobs, as last known."""
    export_mb_budget: float | None = None
    export_jobs: Counter[str] = field(default_factory=Counter)
    """Export jobs by the state they reached this run: created, completed, failed, cancelled, timed_out."""
    export_job_seconds: list[float] = field(default_factory=list)
    """Seconds from creating each completed job to its completion."""
    commit_seconds: list[float] = field(default_factory=list)
    """Seconds each Kafka transaction commit took."""
    server_time: datetime | None = None
    """Marketo's clock (the ``Date`` header) when the newest activities were read."""
    newest_by_activity_type: dict[str, datetime] = field(default_factory=dict)
    """Activity table -> newest committed ``activityDate``."""
    horizon: datetime | None = None
    """How far back history is to be extracted (``sync.start_date`` or Marketo's retention)."""
    calls_by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    """Table (or ``(metadata, other)``) -> ``calls``, ``export_jobs`` and ``bulk_bytes`` spent reading it."""

    def as_json(self) -> dict[str, Any]:
        """The summary as data (``sync --json``, ``--summary-json``): the figures :meth:`render` prints."""
        tables = sorted(set(self.records) | set(self.tombstones))
        return {
            "outcome": self.outcome,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "seconds": round((self.finished - self.started).total_seconds(), 1) if self.finished else None,
            "tables": {t: self._table(t) for t in tables},
            "records": sum(self.records.values()),
            "tombstones": sum(self.tombstones.values()),
            "api_calls": {"total": sum(self.api_calls.values()), "by_endpoint": dict(sorted(self.api_calls.items()))},
            "api_errors": [
                {"endpoint": where, "code": code, "calls": n} for (where, code), n in sorted(self.api_errors.items())
            ],
            "quota": {
                "calls_used": self.calls_today,
                "calls_budget": self.calls_budget,
                "export_mb_used": self.export_mb_today,
                "export_mb_budget": self.export_mb_budget,
            },
            "bulk_bytes": self.bulk_bytes,
            "export_jobs": dict(sorted(self.export_jobs.items())),
            "export_job_seconds": list(self.export_job_seconds),
            "commit_seconds": list(self.commit_seconds),
            "windows_done": self.windows_done,
            "windows_left": self.windows_left,
            "newest_activity": _iso(self.newest_activity),
            "oldest_activity_window": _iso(self.oldest_activity_window),
            "horizon": _iso(self.horizon),
            "server_time": _iso(self.server_time),
            "newest_by_activity_type": {t: d.isoformat() for t, d in sorted(self.newest_by_activity_type.items())},
            "rejected_rows": self.rejected_rows,
            "warnings": list(self.warnings),
            "calls_by_table": {t: dict(figures) for t, figures in sorted(self.calls_by_table.items())},
        }

    def _table(self, table: str) -> dict[str, int]:
        return {"records": self.records[table], "tombstones": self.tombstones[table], "bytes": self.bytes[table]}

    def render(self) -> str:
        return render_summary(self.as_json())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def render_summary(data: Mapping[str, Any]) -> str:
    """The human summary of :meth:`SyncSummary.as_json`'s data (rendering the data, not the object, keeps the
    printed figures and the JSON ones the same)."""
    lines = [f"marketo-stream sync {data['outcome']}"]
    if data["seconds"] is not None:
        lines.append(f"  took {data['seconds']:.1f}s")
    tables: dict[str, dict[str, int]] = data["tables"]
    if tables:
        width = max(len(t) for t in tables)
        lines.append(f"  {'topic'.ljust(width)}  {'records':>10}  {'tombstones':>10}")
        for table, figures in tables.items():
            lines.append(f"  {table.ljust(width)}  {figures['records']:>10,}  {figures['tombstones']:>10,}")
        lines.append(f"  {'total'.ljust(width)}  {data['records']:>10,}  {data['tombstones']:>10,}")
    else:
        lines.append("  nothing new to publish")
    calls = data["api_calls"]
    lines.append(f"  Marketo API calls: {calls['total']:,}")
    for endpoint, count in sorted(calls["by_endpoint"].items(), key=lambda item: (-item[1], item[0]))[:12]:
        lines.append(f"    {count:>7,}  {endpoint}")
    lines.extend(f"    {e['calls']:>7,}  {e['endpoint']} answered {e['code']}" for e in data["api_errors"])
    quota = data["quota"]
    if quota["calls_used"] is not None:
        of = f" of {quota['calls_budget']:,}" if quota["calls_budget"] is not None else ""
        lines.append(f"  Marketo calls today (all integrations): {quota['calls_used']:,}{of}")
    lines.append(f"  bulk export downloaded: {data['bulk_bytes'] / 1_000_000:.2f} MB")
    if quota["export_mb_used"] is not None:
        of = f" of {quota['export_mb_budget']:g}" if quota["export_mb_budget"] is not None else ""
        lines.append(f"  bulk export MB today: {quota['export_mb_used']:g}{of}")
    if data["export_jobs"]:
        jobs = ", ".join(f"{n} {state}" for state, n in data["export_jobs"].items())
        lines.append(f"  export jobs: {jobs}")
    lines.append(f"  activity windows: {data['windows_done']} done this run, {data['windows_left']} left")
    if data["newest_activity"]:
        lines.append(f"  newest activity reached: {data['newest_activity']}")
    if data["oldest_activity_window"]:
        lines.append(f"  history extracted back to: {data['oldest_activity_window']}")
    if data["horizon"]:
        lines.append(f"  history horizon: {data['horizon']}")
    if data["rejected_rows"]:
        lines.append(f"  rejected rows: {data['rejected_rows']} (in the dead-letter topic <prefix>._rejected)")
    lines.extend(f"  warning: {w}" for w in data["warnings"])
    lines.extend(_calls_by_table(data.get("calls_by_table") or {}))
    return "\n".join(lines)


def _calls_by_table(by_table: Mapping[str, Mapping[str, int]]) -> list[str]:
    """What each table cost in Marketo's scarce resources: calls (of the daily quota), export jobs (two run at once)
    and export MB (of the daily export quota), most calls first."""
    if not by_table:
        return []
    width = max(len(t) for t in by_table)
    lines = [f"  Marketo cost per table: {'table'.ljust(width)}  {'calls':>7}  {'jobs':>5}  {'export MB':>9}"]
    for table, figures in sorted(by_table.items(), key=lambda item: (-item[1].get("calls", 0), item[0])):
        mb = figures.get("bulk_bytes", 0) / 1_000_000
        lines.append(
            f"  {''.ljust(22)}{table.ljust(width)}  {figures.get('calls', 0):>7,}  {figures.get('export_jobs', 0):>5,}"
            f"  {mb:>9.2f}"
        )
    return lines
