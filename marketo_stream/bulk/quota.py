"""Today's Bulk Extract volume: what we used, and whether the next job can still fit.

Marketo meters the daily export quota (500 MB by default) on the size of completed files, per day in
US Central, for all integrations together, and answers 1029 once it is spent. We cannot see other
integrations' share, but we can avoid starting a job that our own numbers say will not fit: its size is
estimated from finished jobs of the same family (bytes per second of window, or per job when there is
no window). "Today" is taken from the server's own timestamps on the jobs, falling back to our clock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from marketo_stream.bulk.job import ExportJob
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.marketo.clock import Clock, marketo_day
from marketo_stream.marketo.errors import ExportQuotaExceeded

MB = 1_000_000


class ExportQuota:
    def __init__(self, daily_mb: float, clock: Clock) -> None:
        self.daily_bytes = int(daily_mb * MB)
        self._clock = clock
        self._server_now: datetime | None = None
        self._used: dict[date, int] = defaultdict(int)
        self._seen: set[str] = set()
        self._rates: dict[str, list[tuple[float | None, int]]] = defaultdict(list)
        self._spent_on: date | None = None

    def today(self) -> date:
        return marketo_day(self._server_now or self._clock.now())

    def used_today(self) -> int:
        return self._used[self.today()]

    def observe(self, job: ExportJob) -> None:
        """Learn the server's time from a job answer."""
        stamp = job.latest_instant()
        if stamp and (self._server_now is None or stamp > self._server_now):
            self._server_now = stamp

    def record(self, job: ExportJob, request: ExportRequest | None = None, *, family: str | None = None) -> None:
        """Count a completed job's file against the day it finished on (once per export id).

        Without its ``request`` (a job only seen in the job list) its window is unknown: it still teaches
        the size of a whole job of its ``family``.
        """
        self.observe(job)
        if job.export_id in self._seen or job.file_size is None:
            return
        self._seen.add(job.export_id)
        day = marketo_day(job.finished_at) if job.finished_at else self.today()
        self._used[day] += job.file_size
        if request is not None:
            self._rates[request.family].append((request.window_seconds(), job.file_size))
        elif family is not None:
            self._rates[family].append((None, job.file_size))

    def mark_spent(self) -> None:
        """Marketo said 1029 "Export daily quota exceeded": nothing more fits today."""
        self._spent_on = self.today()

    def estimate(self, request: ExportRequest) -> int:
        """Expected file size, from finished jobs of the same family; 0 when there is no history."""
        history = self._rates.get(request.family, [])
        if not history:
            return 0
        seconds = request.window_seconds()
        windowed = [(s, size) for s, size in history if s]
        if seconds and windowed:
            total_seconds = sum(s for s, _ in windowed if s)
            return int(sum(size for _, size in windowed) / total_seconds * seconds)
        return max(size for _, size in history)

    def check(self, request: ExportRequest, reserved: int = 0) -> int:
        """Raise :class:`ExportQuotaExceeded` if ``request`` would not fit; its estimate otherwise."""
        if self._spent_on == self.today():
            raise ExportQuotaExceeded("1029", f"Export daily quota spent today ({self.today()}); resumes tomorrow")
        needed = self.estimate(request)
        used = self.used_today() + reserved
        if used + needed > self.daily_bytes:
            raise ExportQuotaExceeded(
                "1029",
                f"export {request.label} (~{needed / MB:.1f} MB) would not fit: {used / MB:.1f} of "
                f"{self.daily_bytes / MB:.1f} MB used or reserved today ({self.today()})",
            )
        return needed
