"""Building blocks of the exporter tests: requests over the sandbox's history, exporters, simulated crashes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from marketo_stream.bulk.exporter import BulkExporter, CompletedExport, ExporterConfig
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.marketo.retry import RetryPolicy
from marketo_stream.sandbox import Sandbox
from tests.marketo.support import SandboxAdmin, SandboxClock, make_client


def activity_window(first_day: int, days: int = 7) -> ExportRequest:
    """Activities of October 2026 (the sandbox's history), ``days`` days from ``first_day``."""
    last = first_day + days - 1
    span = {"startAt": f"2026-10-{first_day:02d}T00:00:00Z", "endAt": f"2026-10-{last:02d}T23:59:59Z"}
    return ExportRequest("activities", (), {"createdAt": span}, f"activities:2026-10-{first_day:02d}+{days}d")


def weeks(count: int) -> list[ExportRequest]:
    return [activity_window(1 + 7 * n) for n in range(count)]


class SettlingClock(SandboxClock):
    """For sandboxes with instant jobs: after each wait, lets the sandbox finish writing files in progress.

    The sandbox completes a job only once its background writer is done, in real time; a clock that
    skips hours in a millisecond could otherwise time jobs out that a real Marketo would have finished.
    """

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        deadline = time.monotonic() + 5
        while self.admin.call("GET", "bulk")["jobs"].get("Processing", 0):
            assert time.monotonic() < deadline, "the sandbox did not finish writing its export files within 5 s"
            time.sleep(0.005)


class Crash(Exception):
    """Stands for the process dying: raised out of the exporter, which is then dropped."""


class CrashingClock(SandboxClock):
    """Dies on its ``crash_on``-th sleep (1-based)."""

    def __init__(self, admin: SandboxAdmin, crash_on: int = 1) -> None:
        super().__init__(admin)
        self.crash_on = crash_on

    def sleep(self, seconds: float) -> None:
        if len(self.slept) + 1 >= self.crash_on:
            raise Crash(f"crashed while waiting {seconds}s")
        super().sleep(seconds)


@dataclass
class Caller:
    """What the sync engine keeps: export ids by label (its state) and what it has published."""

    known: dict[str, str] = field(default_factory=dict)
    done: list[CompletedExport] = field(default_factory=list)

    def remember(self, request: ExportRequest, export_id: str) -> None:
        self.known[request.label] = export_id

    def run(self, exporter: BulkExporter, requests: Iterable[ExportRequest]) -> list[CompletedExport]:
        finished = {c.request.label for c in self.done}
        todo = [r for r in requests if r.label not in finished]
        for completed in exporter.run(todo, known_exports=dict(self.known), on_export_id=self.remember):
            self.done.append(completed)
        return self.done


def make_exporter(
    sandbox: Sandbox,
    clock: SandboxClock,
    work_dir: Path,
    *,
    retry: RetryPolicy | None = None,
    **config: Any,
) -> BulkExporter:
    base = ExporterConfig(work_dir=work_dir, poll_interval_seconds=5.0, status_refresh_seconds=0.0)
    client = make_client(sandbox, clock, retry=retry or RetryPolicy())
    return BulkExporter(client, replace(base, **config))


def calls(admin: SandboxAdmin, pattern: str) -> list[dict[str, Any]]:
    return admin.requests(pattern)


def creates(admin: SandboxAdmin) -> int:
    return len(calls(admin, r"/export/create\.json"))


Started = Callable[..., tuple[Sandbox, SandboxAdmin, SandboxClock]]
