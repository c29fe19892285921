"""The progress view in one place: what the run tells it (phase, table, windows, rows, export jobs, waits) is what
both forms show, the plain status line off a terminal and the live view on one."""

from __future__ import annotations

import io
import itertools
import re
import threading
import time

from marketo_stream import logs
from marketo_stream.bulk.exporter import JobState
from marketo_stream.marketo.clock import SYSTEM_CLOCK
from marketo_stream.report import Progress

MB = 1_000_000


def test_the_status_line_says_what_each_export_job_is_doing() -> None:
    progress = Progress(io.StringIO(), interactive=False)
    downloaded = [0]
    progress.count_downloads_with(lambda: downloaded[0])
    progress.count_rows_with(lambda: 1_234)
    progress.phase("activities")
    progress.windows(2, 5)
    progress.job(JobState("activities:a", "e1", "queued", ahead=3))
    progress.job(JobState("activities:b", "e2", "processing"))
    progress.job(JobState("leads:c", "e3", "downloading", file_size=40 * MB))
    downloaded[0] = 12 * MB
    with progress.table("activities"):
        line = progress.status_line()
        assert logs.bound()["table"] == "activities", "the table is on every log line meanwhile"

    assert line.startswith("working: activities; table activities; activity windows 2 done, 5 left; 1,234 rows")
    assert "export activities:a queued behind 3 job(s) for 0s" in line
    assert "export activities:b processing for 0s" in line
    assert "export leads:c downloading 12.0/40.0 MB" in line

    progress.job(JobState("leads:c", "e3", "downloaded", file_size=40 * MB))
    progress.job(JobState("activities:b", "e2", "failed"))
    assert "leads:c" not in progress.status_line() and "activities:b" not in progress.status_line()
    view = progress.render_text(width=120)
    assert "activities:a" in view and "queued behind 3 job(s)" in view and "2 done, 5 left" in view


def test_off_a_terminal_a_status_line_follows_every_silent_interval() -> None:
    out = io.StringIO()
    progress = Progress(out, interactive=False, interval_seconds=0.2)
    progress.phase("activities")
    progress.job(JobState("activities:a", "e1", "processing"))
    with progress:
        progress.step("activities: 1 priority window(s)")
        threading.Event().wait(1.0)  # a job that takes a while: nothing else is printed meanwhile
    lines = out.getvalue().splitlines()
    stamps = [float(line[1:8]) for line in lines]
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert len(lines) >= 4 and lines[0].endswith("activities: 1 priority window(s)")
    assert all("export activities:a processing for" in line for line in lines[1:])
    assert max(gaps) <= 0.2 * 1.5 + 0.1, gaps


def test_a_wait_on_marketos_clock_shows_how_long_it_has_left() -> None:
    progress = Progress(io.StringIO(), interactive=False)
    seen: list[str] = []
    clock = progress.watch(SYSTEM_CLOCK)
    watcher = threading.Timer(0.3, lambda: seen.append(progress.status_line()))
    watcher.start()
    clock.sleep(1.0)
    watcher.join()
    assert re.search(r"waiting [01]s more \(Marketo: its rate window, or a retry\)", seen[0]), seen
    assert "waiting" not in progress.status_line(), "the wait is over"


def test_quiet_progress_prints_nothing_and_starts_nothing() -> None:
    out = io.StringIO()
    with Progress(out, interactive=False, quiet=True, interval_seconds=0.05) as progress:
        progress.step("anything")
        time.sleep(0.2)
    assert out.getvalue() == ""


def test_news_is_what_was_told_rows_or_bytes_that_moved_and_planned_waits_until_they_overrun() -> None:
    progress, rows = Progress(io.StringIO(), interactive=False), [0]
    progress.count_rows_with(lambda: rows[0])
    progress.last_news = 0.0  # long ago
    assert progress.news_at() == 0.0, "nothing moved"
    rows[0] = 5_000
    assert progress.news_at() > 0.0, "rows committed since the last look"
    progress.last_news = 0.0
    with progress.waiting(3600, "Marketo's daily quota resets at midnight US Central"):
        assert progress.news_at() > 0.0, "a planned wait is news until its end"
    with progress.waiting(-5, "a wait that should have ended"):
        progress.last_news = 0.0
        assert progress.news_at() == 0.0, "a wait that overran its end is no news: something hangs"
