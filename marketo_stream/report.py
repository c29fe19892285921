"""What a person sees: progress while a sync runs, and the summary at its end.

On a terminal, progress is one line rewritten in place; elsewhere (CI logs, cron mail) every step is its own
plain line with a timestamp, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO


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
    quarantined_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    outcome: str = "completed"

    def render(self) -> str:
        lines = [f"marketo-stream sync {self.outcome}"]
        if self.finished:
            lines.append(f"  took {(self.finished - self.started).total_seconds():.1f}s")
        topics = sorted(set(self.records) | set(self.tombstones))
        if topics:
            width = max(len(t) for t in topics)
            lines.append(f"  {'topic'.ljust(width)}  {'records':>10}  {'tombstones':>10}")
            for topic in topics:
                lines.append(f"  {topic.ljust(width)}  {self.records[topic]:>10,}  {self.tombstones[topic]:>10,}")
            lines.append(
                f"  {'total'.ljust(width)}  {sum(self.records.values()):>10,}  {sum(self.tombstones.values()):>10,}"
            )
        else:
            lines.append("  nothing new to publish")
        calls = sum(self.api_calls.values())
        lines.append(f"  Marketo API calls: {calls:,}")
        for endpoint, count in sorted(self.api_calls.items(), key=lambda item: (-item[1], item[0]))[:12]:
            lines.append(f"    {count:>7,}  {endpoint}")
        lines.append(f"  bulk export downloaded: {self.bulk_bytes / 1_000_000:.2f} MB")
        lines.append(f"  activity windows: {self.windows_done} done this run, {self.windows_left} left")
        if self.newest_activity:
            lines.append(f"  newest activity reached: {self.newest_activity.isoformat()}")
        if self.oldest_activity_window:
            lines.append(f"  history extracted back to: {self.oldest_activity_window.isoformat()}")
        if self.quarantined_rows:
            lines.append(f"  quarantined rows: {self.quarantined_rows} (see the quarantine file)")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)
