"""The Bulk Extract job queue shared by every client and object type, driven by the simulated clock.

A job goes Created -> (enqueue) Queued -> Processing -> Completed | Failed, or Cancelled. At most
``bulk_processing_slots`` jobs process at once and ``bulk_queue_limit`` may be Queued+Processing together, counting
jobs that *other integrations* hold (``other_*`` settings, changeable at run time through ``/_sandbox/bulk``).
The file is written in a background thread from the world as it was when processing started. A job completes at
``startedAt + job_duration_seconds`` on the simulated clock; a call that finds that moment passed waits (up to
``job_write_wait_seconds`` of real time) for the writer, so a test that jumps the clock sees the job done exactly
then. The status endpoint shows the state as of the last ``status_refresh_seconds`` tick since creation, like
Marketo's once-a-minute updates.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import uuid
from pathlib import Path
from typing import Any

from marketo_stream.sandbox.bulk import csvfile
from marketo_stream.sandbox.bulk.malformed import corrupt
from marketo_stream.sandbox.bulk.requests import ExportSpec
from marketo_stream.sandbox.bulk.rows import prepared_lines, rows
from marketo_stream.sandbox.clock import SimClock
from marketo_stream.sandbox.config import SandboxConfig
from marketo_stream.sandbox.envelope import ApiError
from marketo_stream.sandbox.timefmt import DAY, chicago_day, iso_z
from marketo_stream.sandbox.world.world import World

MB = 1024 * 1024


@dataclasses.dataclass
class ExportJob:
    export_id: str
    kind: str
    object_name: str
    client_id: str
    spec: ExportSpec
    created_at: float
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancelled_at: float | None = None
    error: str | None = None
    fail_message: str | None = None
    file: csvfile.WrittenFile | None = None
    file_gone: bool = False
    written: threading.Event = dataclasses.field(default_factory=threading.Event)

    def status_at(self, t: float) -> str:
        if self.cancelled_at is not None and self.cancelled_at <= t:
            return "Cancelled"
        if self.finished_at is not None and self.finished_at <= t:
            return "Failed" if self.error else "Completed"
        if self.started_at is not None and self.started_at <= t:
            return "Processing"
        if self.queued_at is not None and self.queued_at <= t:
            return "Queued"
        return "Created"

    def as_json(self, t: float) -> dict[str, Any]:
        status = self.status_at(t)
        body: dict[str, Any] = {"exportId": self.export_id, "format": self.spec.file_format, "status": status}
        body["createdAt"] = iso_z(self.created_at)
        for key, when in (("queuedAt", self.queued_at), ("startedAt", self.started_at)):
            if when is not None and when <= t:
                body[key] = iso_z(when)
        ended = self.cancelled_at if status == "Cancelled" else self.finished_at
        if ended is not None and status in ("Completed", "Failed", "Cancelled"):
            body["finishedAt"] = iso_z(ended)
        if status == "Completed" and self.file is not None:
            body.update(numberOfRecords=self.file.records, fileSize=self.file.size, fileChecksum=self.file.sha256)
        if status == "Failed":
            body["errorMsg"] = self.error
        return body


class ExportJobs:
    def __init__(self, config: SandboxConfig, clock: SimClock, world: World, data_dir: Path) -> None:
        self._config = config
        self._clock = clock
        self._world = world
        self._dir = data_dir
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.RLock()
        self._slot_freed = -math.inf
        self.malformed: list[dict[str, Any]] = []
        """Rows broken on purpose (``malformed_rows``): export id, physical line, kind, text."""
        self._malformed_lock = threading.Lock()
        """Not ``_lock``: ``_refresh`` holds that while it waits for a writer thread to finish its file."""
        self.others = {
            "processing": config.other_processing_jobs,
            "queued": config.other_queued_jobs,
            "mb_used": config.other_export_mb_used,
        }

    # -- the API operations -------------------------------------------------------------------------------------
    def create(self, client_id: str, spec: ExportSpec, fail_message: str | None = None) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            self._check_quota()
            now = self._clock.now()
            job = ExportJob(str(uuid.uuid4()), spec.kind, spec.object_name, client_id, spec, now)
            job.fail_message = fail_message
            self._jobs[job.export_id] = job
            return job.as_json(now)

    def enqueue(self, client_id: str, kind: str, object_name: str, export_id: str) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            job = self._own(client_id, kind, object_name, export_id)
            now = self._clock.now()
            status = job.status_at(now)
            if status in ("Queued", "Processing"):
                raise ApiError("1029", "Job already queued")
            if status != "Created":
                raise ApiError("1003", f"Export job {export_id} is {status} and cannot be enqueued")
            self._check_quota()
            if self._active() >= self._config.bulk_queue_limit:
                raise ApiError("1029", "Too many jobs in queue")
            job.queued_at = now
            answer = job.as_json(now)
            self._refresh()
            return answer

    def status(self, client_id: str, kind: str, object_name: str, export_id: str) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            job = self._own(client_id, kind, object_name, export_id)
            now = self._clock.now()
            refresh = self._config.status_refresh_seconds
            shown = now if refresh <= 0 else job.created_at + math.floor((now - job.created_at) / refresh) * refresh
            return job.as_json(shown)

    def cancel(self, client_id: str, kind: str, object_name: str, export_id: str) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            job = self._own(client_id, kind, object_name, export_id)
            now = self._clock.now()
            status = job.status_at(now)
            if status not in ("Created", "Queued", "Processing"):
                raise ApiError("1003", f"Export job {export_id} is {status} and cannot be cancelled")
            job.cancelled_at = now
            answer = job.as_json(now)
            self._refresh()
            return answer

    def listing(self, client_id: str, kind: str, object_name: str, statuses: set[str]) -> list[dict[str, Any]]:
        with self._lock:
            self._refresh()
            now = self._clock.now()
            since = now - self._config.export_list_days * DAY
            found = [
                j.as_json(now)
                for j in self._jobs.values()
                if (j.client_id, j.kind, j.object_name) == (client_id, kind, object_name) and j.created_at >= since
            ]
            return [j for j in found if not statuses or j["status"].lower() in statuses]

    def file(self, client_id: str, kind: str, object_name: str, export_id: str, gone: bool = False) -> Path | None:
        """The file to serve, or None when there is nothing to serve (not completed, expired, gone, not yours)."""
        with self._lock:
            self._refresh()
            job = self._jobs.get(export_id)
            if job is None or (job.client_id, job.kind, job.object_name) != (client_id, kind, object_name):
                return None
            job.file_gone = job.file_gone or gone
            if job.status_at(self._clock.now()) != "Completed" or job.file_gone or job.file is None:
                return None
            return job.file.path if job.file.path.exists() else None

    def mark(
        self, client_id: str, kind: str, object_name: str, export_id: str, *, fail: str | None, gone: bool
    ) -> None:
        """Applies a scripted job fault (see faults.py) to a job the caller owns."""
        with self._lock:
            job = self._jobs.get(export_id)
            if job is not None and (job.client_id, job.kind, job.object_name) == (client_id, kind, object_name):
                job.fail_message = fail or job.fail_message
                job.file_gone = job.file_gone or gone

    # -- accounting ----------------------------------------------------------------------------------------------
    def used_bytes_today(self) -> int:
        today = chicago_day(self._clock.now())
        done = sum(
            j.file.size
            for j in self._jobs.values()
            if j.file is not None and not j.error and j.finished_at is not None and chicago_day(j.finished_at) == today
        )
        return done + int(float(self.others["mb_used"]) * MB)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            now = self._clock.now()
            counts: dict[str, int] = {}
            for job in self._jobs.values():
                status = job.status_at(now)
                counts[status] = counts.get(status, 0) + 1
            return {
                "export_bytes_today": self.used_bytes_today(),
                "export_mb_today": round(self.used_bytes_today() / MB, 3),
                "jobs": counts,
                "others": dict(self.others),
            }

    def close(self) -> None:
        with self._lock:
            self._jobs.clear()

    # -- the machinery -------------------------------------------------------------------------------------------
    def _own(self, client_id: str, kind: str, object_name: str, export_id: str) -> ExportJob:
        job = self._jobs.get(export_id)
        if job is None or (job.client_id, job.kind, job.object_name) != (client_id, kind, object_name):
            raise ApiError("1003", f"Export job {export_id} not found")
        if (
            job.finished_at is not None
            and self._clock.now() > job.finished_at + self._config.export_status_retention_days * DAY
        ):
            raise ApiError("1003", f"Export job {export_id} not found")
        return job

    def _active(self) -> int:
        now = self._clock.now()
        mine = sum(1 for j in self._jobs.values() if j.status_at(now) in ("Queued", "Processing"))
        return mine + int(self.others["processing"]) + int(self.others["queued"])

    def _check_quota(self) -> None:
        quota = self._config.export_daily_quota_mb
        if self.used_bytes_today() >= quota * MB:
            raise ApiError("1029", f"Export daily quota {quota:g}MB exceeded.")

    def _refresh(self) -> None:
        """Moves every job as far as the simulated clock and the writer threads allow."""
        now = self._clock.now()
        duration = self._config.job_duration_seconds
        while True:
            moved = False
            for job in self._jobs.values():
                if job.status_at(now) != "Processing" or job.started_at is None:
                    continue
                finish = job.started_at + duration
                if finish <= now and job.written.wait(self._config.job_write_wait_seconds):
                    job.finished_at = finish
                    job.error = job.error or job.fail_message
                    self._slot_freed = max(self._slot_freed, finish)
                    moved = True
            running = sum(1 for j in self._jobs.values() if j.status_at(now) == "Processing")
            free = self._config.bulk_processing_slots - int(self.others["processing"]) - running
            waiting = sorted(
                (j for j in self._jobs.values() if j.status_at(now) == "Queued"), key=lambda j: j.queued_at or 0
            )
            for job in waiting[: max(0, free)]:
                job.started_at = max(job.queued_at or now, self._slot_freed)
                self._start_writing(job)
                moved = True
            if not moved:
                break
        self._expire(now)

    def _start_writing(self, job: ExportJob) -> None:
        assert job.started_at is not None
        as_of = job.started_at
        path = self._dir / f"{job.export_id}.{job.spec.file_format.lower()}"

        def write() -> None:
            try:
                spec, prepared = job.spec, prepared_lines(job.spec, self._world, as_of)
                if prepared is not None:
                    header = csvfile.line(spec.headers, csvfile.DELIMITERS[spec.file_format]).encode("utf-8")
                    written = csvfile.write_lines(path, header, prepared)
                else:
                    written = csvfile.write(path, spec.file_format, list(spec.headers), rows(spec, self._world, as_of))
                if self._config.malformed_rows and spec.kind in self._config.malformed_exports:
                    delimiter = csvfile.DELIMITERS[spec.file_format]
                    written, broken = corrupt(written, job.export_id, self._config.malformed_rows, delimiter)
                    with self._malformed_lock:
                        self.malformed.extend(broken)
                error = None
            except Exception as exc:  # a failed export is a Failed job with its reason, as Marketo reports it
                written, error = None, f"Export failed: {exc}"
            job.file, job.error = written, error
            job.written.set()

        threading.Thread(target=write, name=f"export-{job.export_id[:8]}", daemon=True).start()

    def _expire(self, now: float) -> None:
        keep = self._config.export_file_retention_days * DAY
        for job in self._jobs.values():
            if job.file is not None and job.finished_at is not None and now > job.finished_at + keep:
                job.file_gone = True
                job.file.path.unlink(missing_ok=True)
