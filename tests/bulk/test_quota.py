"""Today's export volume: counted per Central day, and a job that will not fit is not started (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketo_stream.bulk.job import ExportJob, ExportStatus
from marketo_stream.bulk.quota import ExportQuota
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.marketo.errors import ExportQuotaExceeded


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        pass


def window(days: int, label: str) -> ExportRequest:
    end = f"2026-11-{1 + days:02d}T00:00:00Z"
    return ExportRequest("activities", (), {"createdAt": {"startAt": "2026-11-01T00:00:00Z", "endAt": end}}, label)


def completed(export_id: str, size: int, finished: str) -> ExportJob:
    return ExportJob(export_id, ExportStatus.COMPLETED, finished_at=datetime.fromisoformat(finished), file_size=size)


def test_the_next_job_is_estimated_from_bytes_per_second_of_window() -> None:
    quota = ExportQuota(1.0, FixedClock(datetime(2026, 11, 2, 18, tzinfo=UTC)))
    quota.record(completed("a", 200_000, "2026-11-02T17:00:00+00:00"), window(1, "one-day"))
    assert quota.estimate(window(2, "two-days")) == pytest.approx(400_000, rel=0.01)
    assert quota.check(window(3, "three-days")) == pytest.approx(600_000, rel=0.01)
    with pytest.raises(ExportQuotaExceeded) as refused:
        quota.check(window(5, "five-days"))
    assert refused.value.code == "1029" and "five-days" in refused.value.message


def test_reserved_bytes_of_running_jobs_count_against_today() -> None:
    quota = ExportQuota(1.0, FixedClock(datetime(2026, 11, 2, 18, tzinfo=UTC)))
    quota.record(completed("a", 300_000, "2026-11-02T17:00:00+00:00"), window(1, "one-day"))
    quota.check(window(1, "next"))
    with pytest.raises(ExportQuotaExceeded):
        quota.check(window(1, "next"), reserved=500_000)


def test_the_day_follows_the_servers_clock_in_us_central() -> None:
    quota = ExportQuota(1.0, FixedClock(datetime(2026, 11, 29, tzinfo=UTC)))
    quota.record(completed("a", 900_000, "2026-11-03T05:30:00+00:00"))  # 23:30 on Nov 2 in Chicago
    assert quota.today().isoformat() == "2026-11-02"
    assert quota.used_today() == 900_000
    quota.observe(ExportJob("b", ExportStatus.CREATED, created_at=datetime(2026, 11, 3, 6, 30, tzinfo=UTC)))
    assert quota.today().isoformat() == "2026-11-03" and quota.used_today() == 0


def test_a_job_is_counted_once_however_often_it_is_seen() -> None:
    quota = ExportQuota(1.0, FixedClock(datetime(2026, 11, 2, 18, tzinfo=UTC)))
    job = completed("a", 100, "2026-11-02T17:00:00+00:00")
    quota.record(job)
    quota.record(job)
    assert quota.used_today() == 100


def test_after_marketo_says_the_quota_is_spent_nothing_more_starts_that_day() -> None:
    quota = ExportQuota(500.0, FixedClock(datetime(2026, 11, 2, 18, tzinfo=UTC)))
    quota.mark_spent()
    with pytest.raises(ExportQuotaExceeded):
        quota.check(window(1, "tiny"))
