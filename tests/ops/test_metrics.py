"""Metrics: one declaration each, named ``marketo_stream_*``, filled from the run summary so that they always
match it; served over HTTP, written for the textfile collector, documented in the README."""

from __future__ import annotations

import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream.cli import main
from marketo_stream.metrics import PREFIX, Metrics, describe, markdown_table
from marketo_stream.report import SyncSummary
from tests.ops.summaries import STARTED, full_summary

README = Path(__file__).resolve().parents[2] / "README.md"


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_metric_is_ours_declared_once_with_help() -> None:
    infos = describe()
    assert len({m.name for m in infos}) == len(infos)
    for info in infos:
        assert info.name.startswith(PREFIX) and info.help, info


def test_the_metrics_match_the_summary() -> None:
    summary, metrics = full_summary(), Metrics()
    metrics.record_run(summary, "mkto")
    got = _samples(metrics)

    for table, n in summary.records.items():
        assert got[("marketo_stream_records_total", (("topic", f"mkto.{table}"),))] == n
    assert got[("marketo_stream_tombstones_total", (("topic", "mkto.lead"),))] == 3
    assert got[("marketo_stream_published_bytes_total", (("topic", "mkto.lead"),))] == 480_000
    for endpoint, calls in summary.api_calls.items():
        by_code = {dict(k[1])["code"]: v for k, v in got.items() if k[0] == "marketo_stream_api_calls_total"
                   and dict(k[1])["endpoint"] == endpoint}  # fmt: skip
        assert sum(by_code.values()) == calls
    assert got[("marketo_stream_api_calls_total", (("code", "606"), ("endpoint", "rest/v1/leads.json")))] == 2
    assert got[("marketo_stream_daily_api_calls", (("state", "left"),))] == 38_000
    assert got[("marketo_stream_daily_export_megabytes", (("state", "used"),))] == 120.5
    assert got[("marketo_stream_export_jobs_total", (("state", "failed"),))] == 1
    assert got[("marketo_stream_export_job_duration_seconds_count", ())] == 3
    assert got[("marketo_stream_transaction_commit_seconds_sum", ())] == sum(summary.commit_seconds)
    lag = got[("marketo_stream_freshness_lag_seconds", (("table", "activity_visit_webpage"),))]
    assert lag == 2 * 3600 + 80
    assert got[("marketo_stream_backfill_horizon_timestamp_seconds", ())] == summary.horizon.timestamp()  # type: ignore[union-attr]
    assert got[("marketo_stream_last_success_timestamp_seconds", ())] == summary.finished.timestamp()  # type: ignore[union-attr]
    assert got[("marketo_stream_bulk_downloaded_bytes_total", ())] == summary.bulk_bytes
    assert got[("marketo_stream_runs_total", (("outcome", "completed"),))] == 1


def test_a_stopped_run_is_no_success() -> None:
    summary, metrics = full_summary(), Metrics()
    summary.outcome = "stopped"
    metrics.record_run(summary, "mkto")
    metrics.record_failure()
    got = _samples(metrics)
    assert ("marketo_stream_last_success_timestamp_seconds", ()) not in got or not got[
        ("marketo_stream_last_success_timestamp_seconds", ())
    ]
    assert got[("marketo_stream_runs_total", (("outcome", "failed"),))] == 1


def test_the_textfile_is_replaced_whole(tmp_path: Path) -> None:
    metrics, path = Metrics(), tmp_path / "marketo_stream.prom"
    path.write_text("old")
    metrics.record_run(full_summary(), "mkto")
    metrics.write_textfile(path)
    assert "marketo_stream_records_total" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["marketo_stream.prom"]


def test_served_metrics_answer_and_the_health_probe_reads_them() -> None:
    metrics = Metrics()
    port = metrics.serve(0, "127.0.0.1")
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert b"marketo_stream_build_info" in response.read()
    assert CliRunner().invoke(main, ["health", "--url", url]).exit_code == 0
    summary = full_summary()
    summary.started, summary.finished = datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, 0, 1, tzinfo=UTC)
    metrics.record_run(summary, "mkto")  # a pass that ended long ago
    stale = CliRunner().invoke(main, ["health", "--url", url, "--max-age", "600"])
    assert stale.exit_code == 1 and "no sync news" in stale.output
    gone = CliRunner().invoke(main, ["health", "--url", "http://127.0.0.1:1/metrics", "--timeout", "1"])
    assert gone.exit_code == 1 and "did not answer" in gone.output


def test_the_readme_table_is_the_modules() -> None:
    text = README.read_text()
    found = re.search(r"<!-- metrics-table:begin -->\n(.*?)\n<!-- metrics-table:end -->", text, re.DOTALL)
    assert found, "the README marks its metrics table with metrics-table:begin/end"
    assert found[1] == markdown_table(), "regenerate it: python -m marketo_stream.metrics"


def test_a_long_pass_with_news_is_healthy_and_one_without_is_not() -> None:
    metrics, news = Metrics(), [time.time()]
    metrics.follow_progress(lambda: news[0])
    port = metrics.serve(0, "127.0.0.1")
    url = f"http://127.0.0.1:{port}/metrics"
    summary = full_summary()
    summary.started, summary.finished = datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, 0, 1, tzinfo=UTC)
    metrics.record_run(summary, "mkto")  # the last pass ended long ago, and the running one has news
    assert CliRunner().invoke(main, ["health", "--url", url, "--max-age", "600"]).exit_code == 0
    news[0] = time.time() - 3600  # the running pass has had none for an hour: hung
    hung = CliRunner().invoke(main, ["health", "--url", url, "--max-age", "600"])
    assert hung.exit_code == 1 and "no sync news" in hung.output


def test_the_freshness_lag_of_a_table_without_new_activity_grows_with_marketos_clock() -> None:
    metrics, first = Metrics(), full_summary()
    metrics.record_run(first, "mkto")
    later = SyncSummary(started=STARTED + timedelta(hours=1), finished=STARTED + timedelta(hours=1, minutes=1))
    later.server_time = STARTED + timedelta(hours=1, minutes=1)
    later.newest_by_activity_type = {"activity_fill_out_form": STARTED + timedelta(minutes=50)}
    metrics.record_run(later, "mkto")
    got = _samples(metrics)
    assert got[("marketo_stream_freshness_lag_seconds", (("table", "activity_fill_out_form"),))] == 11 * 60
    webpage = got[("marketo_stream_freshness_lag_seconds", (("table", "activity_visit_webpage"),))]
    assert webpage == 3 * 3600 + 60, "no new visit in the second pass: its lag grew by the time between them"
