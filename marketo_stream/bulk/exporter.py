"""Runs a list of exports through Marketo's shared queue and yields each verified file as it completes.

Why it is shaped like this:

- **Never pay twice.** An export id is reported through ``on_export_id`` the moment Marketo creates the
  job, and a run given ``known_exports`` resumes those jobs (enqueue, poll or download, whatever their
  state) instead of creating new ones. Only a job that failed, hung, or whose file vanished is re-created.
- **Share the queue.** Marketo processes 2 jobs at a time from a queue of 10 shared by every
  integration. We keep at most ``max_in_flight`` (2: both processing slots) of our jobs queued or
  processing, count our API user's jobs from earlier runs (the list endpoint shows only those), and back
  off when Marketo answers 1029 "Too many jobs in queue".
- **Keep the quota.** A job that our numbers say will not fit in today's export volume is not started;
  a 1029 "Export daily quota" stops new jobs. Either way, jobs already running are finished and yielded,
  then :class:`ExportQuotaExceeded` is raised; the next day's run picks up the rest.
- **Bad jobs shrink.** A Failed (or timed-out, cancelled) job is re-created ``failed_retries`` times, then
  its date window is split in two.
- **Poll politely.** Status changes at most once a minute on Marketo's side; polling is never faster
  than ``status_refresh_seconds``.

Log lines about one job carry its ``export_id`` (and the request's label as ``export``): see :func:`logs.bind`.
What each job is doing is also told to ``on_job_state`` as a :class:`JobState` (the progress view shows it, the
run summary counts it): the exporter knows nothing of either.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketo_stream import logs
from marketo_stream.bulk.csvfile import ExportRows, Quarantine
from marketo_stream.bulk.errors import ExportFailed
from marketo_stream.bulk.job import ExportJob, ExportStatus
from marketo_stream.bulk.quota import ExportQuota
from marketo_stream.bulk.repository import ExportRepository
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.bulk.verify import fetch_verified
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.clock import Clock
from marketo_stream.marketo.errors import (
    ExportQueueFull,
    ExportQuotaExceeded,
    FileGone,
    MarketoProtocolError,
    MarketoRequestError,
)

log = logging.getLogger("marketo_stream.bulk")

OnExportId = Callable[[ExportRequest, str], None]

JOB_STATES = ("created", "queued", "processing", "completed", "downloading", "downloaded", "failed", "cancelled",
              "timed_out")  # fmt: skip
"""What ``on_job_state`` hears: Marketo's states, and ours around the file (``downloading``, ``downloaded``: verified
and handed over) and a job given up on (``timed_out``: cancelled by us after ``job_timeout_seconds``)."""


@dataclass(frozen=True, slots=True)
class JobState:
    """One export job as it is now: told at creation, at every status poll, around the download and at its end."""

    label: str
    """The request's label (e.g. ``activities:<window>``)."""
    export_id: str | None
    state: str
    """One of :data:`JOB_STATES`."""
    ahead: int = 0
    """``queued``: jobs that hold queue slots before this one (ours queued earlier and other integrations')."""
    file_size: int | None = None
    """``completed``, ``downloading``, ``downloaded``: the file's size in bytes, as Marketo gives it."""
    seconds: float | None = None
    """``completed``: from creating the job to its completion, by Marketo's own timestamps when it gives them."""


OnJobState = Callable[[JobState], None]


@dataclass(frozen=True, slots=True)
class ExporterConfig:
    work_dir: Path
    """Where files are downloaded (``<exportId>.part`` while incomplete, ``<exportId>.csv`` once verified)."""
    poll_interval_seconds: float = 60.0
    status_refresh_seconds: float = 60.0
    """Marketo refreshes a job's status at most this often; polling faster only spends calls."""
    job_timeout_seconds: float = 3 * 3600.0
    max_in_flight: int = 2
    queue_limit: int = 10
    failed_retries: int = 1
    min_split_seconds: float = 3600.0
    """A failing window shorter than this is not split further: the export fails."""
    daily_export_mb: float = 500.0
    queue_full_wait_seconds: float = 60.0
    queue_full_wait_cap_seconds: float = 240.0
    queue_full_max_waits: int = 30
    file_gone_recreates: int = 2
    download_attempts: int = 2
    """Downloads per job when the file does not verify (the second one starts from scratch)."""

    @property
    def poll_seconds(self) -> float:
        return max(self.poll_interval_seconds, self.status_refresh_seconds)


@dataclass(frozen=True, slots=True)
class CompletedExport:
    request: ExportRequest
    export_id: str
    path: Path
    """The verified file; the caller owns it from here (delete it once its rows are committed)."""
    number_of_records: int
    file_size: int

    def rows(self, quarantine: Quarantine | None = None) -> ExportRows:
        """The file's rows; once read, their count is compared with Marketo's (0: Marketo gave none)."""
        return ExportRows(self.path, quarantine=quarantine, expected_records=self.number_of_records or None)


@dataclass(slots=True)
class _Task:
    request: ExportRequest
    export_id: str | None = None
    job: ExportJob | None = None
    failures: int = 0
    gone: int = 0
    in_flight_since: float | None = None
    next_poll: float = 0.0
    estimate: int = 0

    def forget_job(self) -> None:
        self.export_id, self.job, self.in_flight_since, self.estimate = None, None, None, 0

    def logged(self) -> AbstractContextManager[None]:
        """Log lines inside name this job."""
        return logs.bind(export=self.request.label, export_id=self.export_id)


class BulkExporter:
    """Long-lived: keeps what it learned about today's export volume across runs."""

    def __init__(self, client: MarketoClient, config: ExporterConfig, *, clock: Clock | None = None) -> None:
        self.repository = ExportRepository(client)
        self.config = config
        self.clock = clock or client.clock
        self.quota = ExportQuota(config.daily_export_mb, self.clock)
        config.work_dir.mkdir(parents=True, exist_ok=True)

    def run(
        self,
        requests: Sequence[ExportRequest],
        *,
        known_exports: Mapping[str, str] | None = None,
        on_export_id: OnExportId | None = None,
        on_job_state: OnJobState | None = None,
    ) -> Iterator[CompletedExport]:
        """Yield every request's verified file (split requests yield their parts), in completion order."""
        labels = [r.label for r in requests]
        if len(set(labels)) != len(labels):
            raise ValueError("export labels must be unique within a run")
        run = _Run(
            self, known_exports or {}, on_export_id or (lambda request, export_id: None), on_job_state or _unheard
        )
        yield from run.drive(requests)


def _unheard(state: JobState) -> None:
    """Nobody listens."""


class _Run:
    def __init__(
        self, exporter: BulkExporter, known: Mapping[str, str], on_export_id: OnExportId, on_job_state: OnJobState
    ) -> None:
        self.repo = exporter.repository
        self.config = exporter.config
        self.clock = exporter.clock
        self.quota = exporter.quota
        self.known = known
        self.on_export_id = on_export_id
        self.on_job_state = on_job_state
        self.pending: deque[_Task] = deque()
        self.active: list[_Task] = []
        self.ready: deque[_Task] = deque()
        self.foreign: set[str] = set()
        self.families: dict[str, ExportRequest] = {}
        self.foreign_refresh_at = 0.0
        self.stop_error: ExportQuotaExceeded | None = None
        self.queue_waits = 0
        self.queue_blocked_until = 0.0

    def drive(self, requests: Sequence[ExportRequest]) -> Iterator[CompletedExport]:
        for request in requests:
            self._resume(_Task(request, export_id=self.known.get(request.label)))
        self._list_foreign(requests)
        while self.pending or self.active or self.ready:
            while self.ready:
                done = self._fetch(self.ready.popleft())
                if done is not None:
                    yield done
            self._submit()
            self._poll_due()
            if self.ready:
                continue
            if self.stop_error is not None and not self.active:
                raise self.stop_error
            if self.pending or self.active:
                self._sleep_until_due()

    # -- state changes -------------------------------------------------------------------------------

    def _tell(self, task: _Task, state: str, **figures: Any) -> None:
        self.on_job_state(JobState(task.request.label, task.export_id, state, **figures))

    def _ahead(self, task: _Task) -> int:
        """Jobs before this one in Marketo's queue, as far as we can know: other integrations' and ours queued
        earlier."""
        since = task.in_flight_since or 0.0
        ours = sum(1 for t in self.active if t is not task and (t.in_flight_since or 0.0) <= since)
        return len(self.foreign) + ours

    def _resume(self, task: _Task) -> None:
        if task.export_id is None:
            self.pending.append(task)
            return
        with task.logged():
            self._resume_job(task, task.export_id)

    def _resume_job(self, task: _Task, export_id: str) -> None:
        try:
            job = self.repo.status(task.request, export_id)
        except (MarketoRequestError, FileGone) as exc:
            log.info("export %s: job %s cannot be resumed (%s); creating anew", task.request.label, task.export_id, exc)
            task.forget_job()
            self.pending.append(task)
            return
        log.info("export %s: resuming job %s (%s)", task.request.label, task.export_id, job.status.value)
        if job.status is ExportStatus.CREATED:
            task.job = job
            self.pending.append(task)
        else:
            self._track(task, job)

    def _track(self, task: _Task, job: ExportJob) -> None:
        task.job = job
        self.quota.observe(job)
        now = self.clock.monotonic()
        if job.status.holds_queue_slot:
            if task.in_flight_since is None:
                task.in_flight_since = now
            if now - task.in_flight_since > self.config.job_timeout_seconds:
                self._time_out(task)
                return
            task.next_poll = now + self.config.poll_seconds
            self.active.append(task)
            if job.status is ExportStatus.QUEUED:
                self._tell(task, "queued", ahead=self._ahead(task))
            else:
                self._tell(task, "processing")
        elif job.status is ExportStatus.COMPLETED:
            self.quota.record(job, task.request)
            self.ready.append(task)
            self._tell(task, "completed", file_size=job.file_size, seconds=self._latency(task, job, now))
        elif job.status is ExportStatus.CREATED:
            self.pending.appendleft(task)
        else:
            state = "cancelled" if job.status is ExportStatus.CANCELLED else "failed"
            self._failed(task, f"job {job.status.value}: {job.error_msg or 'no reason given'}", state)

    @staticmethod
    def _latency(task: _Task, job: ExportJob, now: float) -> float | None:
        """Creation to completion: Marketo's own timestamps, else our clock since the job was first in flight."""
        if job.created_at is not None and job.finished_at is not None:
            return max(0.0, (job.finished_at - job.created_at).total_seconds())
        return None if task.in_flight_since is None else now - task.in_flight_since

    def _time_out(self, task: _Task) -> None:
        assert task.export_id is not None
        try:
            self.repo.cancel(task.request, task.export_id)
        except MarketoRequestError as exc:
            log.warning("export %s: cancelling job %s failed: %s", task.request.label, task.export_id, exc)
        self._failed(task, f"still queued or processing after {self.config.job_timeout_seconds:g}s", "timed_out")

    def _failed(self, task: _Task, reason: str, state: str = "failed") -> None:
        self._tell(task, state)
        task.failures += 1
        log.warning("export %s (job %s): %s", task.request.label, task.export_id, reason)
        failed_id = task.export_id
        task.forget_job()
        if task.failures <= self.config.failed_retries:
            self.pending.appendleft(task)
            return
        halves = task.request.split(self.config.min_split_seconds)
        if halves is None:
            raise ExportFailed(task.request.label, failed_id, reason)
        log.warning("export %s: splitting into %s and %s", task.request.label, halves[0].label, halves[1].label)
        self.pending.extendleft(reversed([_Task(half) for half in halves]))

    # -- the loop's steps -----------------------------------------------------------------------------

    def _in_flight(self) -> int:
        return len(self.active) + len(self.foreign)

    def _submit(self) -> None:
        now = self.clock.monotonic()
        if self.stop_error is not None or now < self.queue_blocked_until:
            return
        if self.pending and self.foreign and self._in_flight() >= self.config.max_in_flight:
            self._refresh_foreign(now)
        while self.pending and self._in_flight() < min(self.config.max_in_flight, self.config.queue_limit):
            task = self.pending[0]
            if task.export_id is None:
                try:
                    task.estimate = self.quota.check(task.request, sum(t.estimate for t in self.active))
                except ExportQuotaExceeded as exc:
                    log.warning("%s; not starting more exports today", exc.message)
                    self.stop_error = exc
                    return
            try:
                if task.export_id is None:
                    self._create(task)
                assert task.export_id is not None
                with task.logged():
                    job = self.repo.enqueue(task.request, task.export_id)
            except ExportQueueFull as exc:
                self._back_off(exc)
                return
            except ExportQuotaExceeded as exc:
                log.warning("Marketo refused an export: %s; not starting more exports today", exc.message)
                self.quota.mark_spent()
                self.stop_error = exc
                return
            self.queue_waits = 0
            self.pending.popleft()
            with task.logged():
                log.info("export %s: job %s %s", task.request.label, task.export_id, job.status.value)
                self._track(task, job)

    def _create(self, task: _Task) -> None:
        job = self.repo.create(task.request)
        self.quota.observe(job)
        task.export_id, task.job = job.export_id, job
        with task.logged():
            log.info("export %s: created job %s", task.request.label, job.export_id)
        self.on_export_id(task.request, job.export_id)
        self._tell(task, "created")

    def _back_off(self, exc: ExportQueueFull) -> None:
        self.queue_waits += 1
        if self.queue_waits > self.config.queue_full_max_waits:
            raise exc
        wait = min(
            self.config.queue_full_wait_cap_seconds, self.config.queue_full_wait_seconds * 2 ** (self.queue_waits - 1)
        )
        log.warning("export queue is full (%s); next enqueue in %.3gs", exc.message, wait)
        self.queue_blocked_until = self.clock.monotonic() + wait

    def _poll_due(self) -> None:
        now = self.clock.monotonic()
        for task in [t for t in self.active if t.next_poll <= now]:
            assert task.export_id is not None
            self.active.remove(task)
            with task.logged():
                try:
                    job = self.repo.status(task.request, task.export_id)
                except MarketoRequestError as exc:
                    self._failed(task, f"status unavailable: {exc}")
                    continue
                self._track(task, job)

    def _fetch(self, task: _Task) -> CompletedExport | None:
        with task.logged():
            return self._fetch_job(task)

    def _fetch_job(self, task: _Task) -> CompletedExport | None:
        assert task.export_id is not None and task.job is not None
        export_id, job, request = task.export_id, task.job, task.request
        part = self.config.work_dir / f"{export_id}.part"
        final = self.config.work_dir / f"{export_id}.csv"
        self._tell(task, "downloading", file_size=job.file_size)
        try:
            path = fetch_verified(
                lambda dest: self.repo.download(request, export_id, dest),
                job,
                part,
                final,
                label=request.label,
                attempts=self.config.download_attempts,
            )
        except FileGone as exc:
            part.unlink(missing_ok=True)
            task.gone += 1
            if task.gone > self.config.file_gone_recreates:
                raise ExportFailed(request.label, export_id, f"file gone: {exc.message}") from exc
            log.warning("export %s: file of job %s is gone; re-creating the job", request.label, export_id)
            task.forget_job()
            self.pending.appendleft(task)
            return None
        log.info("export %s: job %s verified, %s records", request.label, export_id, job.number_of_records)
        self._tell(task, "downloaded", file_size=path.stat().st_size)
        return CompletedExport(request, export_id, path, job.number_of_records or 0, path.stat().st_size)

    def _sleep_until_due(self) -> None:
        now = self.clock.monotonic()
        due = [t.next_poll for t in self.active]
        if self.pending and self.stop_error is None:
            if self._in_flight() < self.config.max_in_flight:
                due.append(self.queue_blocked_until)  # only a full queue holds the next job back
            elif self.foreign:
                due.append(self.foreign_refresh_at)  # jobs of earlier runs may have finished meanwhile
        wait = max(0.0, min(due, default=now) - now)
        if wait > 0:
            self.clock.sleep(wait)

    # -- jobs of our API user that this run did not start (earlier runs, other processes) --------------

    def _list_foreign(self, requests: Sequence[ExportRequest]) -> None:
        self.families = {r.family: r for r in requests}
        self._refresh_foreign(self.clock.monotonic())

    def _refresh_foreign(self, now: float) -> None:
        if now < self.foreign_refresh_at:
            return
        ours = {t.export_id for t in (*self.active, *self.pending, *self.ready) if t.export_id}
        found: set[str] = set()
        for request in self.families.values():
            try:
                jobs = self.repo.list_jobs(request)
            except (MarketoRequestError, MarketoProtocolError) as exc:
                log.warning("listing %s jobs failed (%s); assuming none of ours are running", request.family, exc)
                continue
            for job in jobs:
                if job.status is ExportStatus.COMPLETED:
                    self.quota.record(job, family=request.family)  # earlier runs' files count against today
            found.update(j.export_id for j in jobs if j.status.holds_queue_slot and j.export_id not in ours)
        if found:
            log.info("%d export jobs of this API user from elsewhere hold queue slots", len(found))
        self.foreign = found
        self.foreign_refresh_at = now + self.config.poll_seconds
