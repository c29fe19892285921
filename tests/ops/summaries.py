"""A summary with every figure filled in, as a pass that did a bit of everything would leave it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from marketo_stream.report import SyncSummary

STARTED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def full_summary() -> SyncSummary:
    return SyncSummary(
        started=STARTED,
        finished=STARTED + timedelta(seconds=83.46),
        records=Counter({"lead": 1_200, "activity_fill_out_form": 34_567, "program": 0}),
        tombstones=Counter({"lead": 3}),
        api_calls={"bulk/v1/activities/export/create.json": 4, "rest/v1/leads.json": 17, "identity/oauth/token": 1},
        bulk_bytes=12_345_678,
        windows_done=2,
        windows_left=5,
        newest_activity=STARTED - timedelta(minutes=20),
        oldest_activity_window=STARTED - timedelta(days=60),
        rejected_rows=2,
        warnings=["custom object x has no key"],
        bytes=Counter({"lead": 480_000, "activity_fill_out_form": 9_000_000}),
        api_errors=Counter({("rest/v1/leads.json", "606"): 2}),
        calls_today=12_000,
        calls_budget=50_000,
        export_mb_today=120.5,
        export_mb_budget=500.0,
        export_jobs=Counter({"created": 4, "completed": 3, "failed": 1}),
        export_job_seconds=[130.0, 400.0, 2_000.0],
        commit_seconds=[0.02, 0.04, 0.3],
        server_time=STARTED + timedelta(seconds=80),
        newest_by_activity_type={
            "activity_fill_out_form": STARTED - timedelta(minutes=20),
            "activity_visit_webpage": STARTED - timedelta(hours=2),
        },
        horizon=STARTED - timedelta(days=760),
    )
