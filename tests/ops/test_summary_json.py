"""The run summary as data: ``sync --json`` / ``--summary-json`` hold exactly the figures the text shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream import logs
from marketo_stream.cli import main
from marketo_stream.commands import sync as sync_command
from marketo_stream.commands.follow import FollowLoop
from marketo_stream.errors import ConfigError
from marketo_stream.exit_codes import ExitStatus
from marketo_stream.metrics import Metrics
from marketo_stream.report import SyncSummary
from tests.ops.summaries import STARTED, full_summary

ENV = {
    "MARKETO_STREAM_BASE_URL": "http://127.0.0.1:1",
    "MARKETO_STREAM_CLIENT_ID": "id",
    "MARKETO_STREAM_CLIENT_SECRET": "secret-value",
    "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": "mkto",
    "MARKETO_STREAM_FOLLOW__TAIL": "false",
}  # fmt: skip  (the pause is a sleep: no tail between passes)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def figures_of_the_text(text: str) -> dict[str, Any]:
    """What a person reads in the summary, parsed back into the JSON's shape."""
    found: dict[str, Any] = {"tables": {}, "by_endpoint": {}, "warnings": [], "api_errors": [], "newest": {}}
    for line in text.splitlines()[1:]:
        row = re.fullmatch(r"  (\S+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)", line)
        if line.split()[:4] == ["topic", "records", "tombstones", "bytes"]:
            continue
        if m := re.fullmatch(r"  took ([\d.]+)s", line):
            found["seconds"] = float(m[1])
        elif row and row[1] == "total":
            found["records"], found["tombstones"], found["bytes"] = _number(row[2]), _number(row[3]), _number(row[4])
        elif row:
            found["tables"][row[1]] = {
                "records": _number(row[2]),
                "tombstones": _number(row[3]),
                "bytes": _number(row[4]),
            }
        elif m := re.fullmatch(
            r"  export job latency: (\d+) completed, ([\d.]+)s on average, ([\d.]+)s the longest", line
        ):
            found["jobs_done"], found["job_mean"], found["job_max"] = int(m[1]), float(m[2]), float(m[3])
        elif m := re.fullmatch(r"  Kafka transactions: (\d+) committed in ([\d.]+)s, ([\d.]+)s the longest", line):
            found["commits"], found["commit_total"], found["commit_max"] = int(m[1]), float(m[2]), float(m[3])
        elif m := re.fullmatch(r"  Marketo's time at the end: (\S+)", line):
            found["server_time"] = m[1]
        elif line == "  newest activity by table (freshness lag):":
            continue
        elif m := re.fullmatch(r"    (activity_\S+)\s+(\S+)\s+([\d,]+)s", line):
            found["newest"][m[1]] = {"at": m[2], "lag": _number(m[3])}
        elif m := re.fullmatch(r"  Marketo API calls: ([\d,]+)", line):
            found["api_calls"] = _number(m[1])
        elif m := re.fullmatch(r"\s+([\d,]+)  (\S+) answered (\S+)", line):
            found["api_errors"].append({"endpoint": m[2], "code": m[3], "calls": _number(m[1])})
        elif m := re.fullmatch(r"\s+([\d,]+)  (\S+)", line):
            found["by_endpoint"][m[2]] = _number(m[1])
        elif m := re.fullmatch(r"  Marketo calls today \(all integrations\): ([\d,]+) of ([\d,]+)", line):
            found["calls_used"], found["calls_budget"] = _number(m[1]), _number(m[2])
        elif m := re.fullmatch(r"  bulk export downloaded: ([\d.]+) MB", line):
            found["bulk_mb"] = float(m[1])
        elif m := re.fullmatch(r"  bulk export MB today: ([\d.]+) of ([\d.]+)", line):
            found["export_mb_used"], found["export_mb_budget"] = float(m[1]), float(m[2])
        elif m := re.fullmatch(r"  export jobs: (.*)", line):
            found["export_jobs"] = {s.split()[1]: int(s.split()[0]) for s in m[1].split(", ")}
        elif m := re.fullmatch(r"  activity windows: (\d+) done this run, (\d+) left", line):
            found["windows_done"], found["windows_left"] = int(m[1]), int(m[2])
        elif m := re.fullmatch(r"  newest activity reached: (\S+)", line):
            found["newest_activity"] = m[1]
        elif m := re.fullmatch(r"  history extracted back to: (\S+)", line):
            found["oldest_activity_window"] = m[1]
        elif m := re.fullmatch(r"  history horizon: (\S+)", line):
            found["horizon"] = m[1]
        elif m := re.fullmatch(r"  rejected rows: (\d+) .*", line):
            found["rejected_rows"] = int(m[1])
        elif m := re.fullmatch(r"  warning: (.*)", line):
            found["warnings"].append(m[1])
        else:
            raise AssertionError(f"a summary line the test does not know: {line!r}")
    return found


def same_figures_in_the_json(data: dict[str, Any]) -> dict[str, Any]:
    waits, commits = data["export_job_seconds"], data["commit_seconds"]
    return {
        "tables": data["tables"],
        "bytes": sum(v["bytes"] for v in data["tables"].values()),
        "jobs_done": len(waits),
        "job_mean": round(sum(waits) / len(waits), 1),
        "job_max": round(max(waits), 1),
        "commits": len(commits),
        "commit_total": round(sum(commits), 3),
        "commit_max": round(max(commits), 3),
        "server_time": data["server_time"],
        "newest": {
            t: {"at": at, "lag": round(data["freshness_lag_seconds"][t])}
            for t, at in data["newest_by_activity_type"].items()
        },
        "by_endpoint": data["api_calls"]["by_endpoint"],
        "warnings": data["warnings"],
        "api_errors": data["api_errors"],
        "seconds": data["seconds"],
        "records": data["records"],
        "tombstones": data["tombstones"],
        "api_calls": data["api_calls"]["total"],
        "calls_used": data["quota"]["calls_used"],
        "calls_budget": data["quota"]["calls_budget"],
        "bulk_mb": round(data["bulk_bytes"] / 1_000_000, 2),
        "export_mb_used": data["quota"]["export_mb_used"],
        "export_mb_budget": data["quota"]["export_mb_budget"],
        "export_jobs": data["export_jobs"],
        "windows_done": data["windows_done"],
        "windows_left": data["windows_left"],
        "newest_activity": data["newest_activity"],
        "oldest_activity_window": data["oldest_activity_window"],
        "horizon": data["horizon"],
        "rejected_rows": data["rejected_rows"],
    }


def test_the_json_summary_has_the_figures_of_the_text_summary() -> None:
    summary = full_summary()
    assert figures_of_the_text(summary.render()) == same_figures_in_the_json(summary.as_json())


def test_an_empty_run_says_so_in_both() -> None:
    summary = SyncSummary(started=STARTED)
    data = summary.as_json()
    assert "nothing new to publish" in summary.render()
    assert data["tables"] == {} and data["records"] == 0 and data["api_calls"]["total"] == 0
    assert data["quota"] == {"calls_used": None, "calls_budget": None, "export_mb_used": None, "export_mb_budget": None}


class _FakeRunner:
    def __init__(self, *_: object, **__: object) -> None:
        pass

    def run_once(self) -> SyncSummary:
        return full_summary()

    def close(self) -> None:
        pass


@pytest.fixture
def fresh_metrics(monkeypatch: pytest.MonkeyPatch) -> Metrics:
    import marketo_stream.sync.runner as runner

    metrics = Metrics()
    monkeypatch.setattr(runner, "SyncRunner", _FakeRunner)
    monkeypatch.setattr(sync_command, "METRICS", metrics)
    return metrics


def test_sync_prints_json_on_stdout_writes_the_summary_file_and_the_metrics_textfile(
    fresh_metrics: Metrics, tmp_path: Path
) -> None:
    textfile = tmp_path / "collector" / "marketo_stream.prom"
    summary_file = tmp_path / "summary.json"
    env = {**ENV, "MARKETO_STREAM_METRICS__TEXTFILE": str(textfile)}
    result = CliRunner().invoke(main, ["sync", "--json", "--summary-json", str(summary_file)], env=env)
    assert result.exit_code == 0, result.output

    printed = json.loads(result.stdout)
    assert printed == json.loads(summary_file.read_text())
    assert printed["run_id"] and {k: v for k, v in printed.items() if k != "run_id"} == full_summary().as_json()
    assert "marketo-stream sync completed" not in result.stderr, "stderr is for log lines (JSON ones too)"
    families = {f.name: f for f in text_string_to_metric_families(textfile.read_text())}
    records = {s.labels["topic"]: s.value for s in families["marketo_stream_records"].samples}
    assert records == {"mkto.lead": 1_200, "mkto.activity_fill_out_form": 34_567, "mkto.program": 0}
    assert [p.name for p in textfile.parent.iterdir()] == ["marketo_stream.prom"], "no temporary file left"


def test_sync_without_json_prints_the_text_summary_on_stdout(fresh_metrics: Metrics) -> None:
    result = CliRunner().invoke(main, ["sync"], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("marketo-stream sync completed\n")


def test_each_pass_of_follow_has_its_own_run_id(monkeypatch: pytest.MonkeyPatch, fresh_metrics: Metrics) -> None:
    seen: list[str | None] = []

    def one_pass(*_: object) -> None:
        seen.append(logs.current_run_id())
        if len(seen) == 3:
            raise ConfigError("enough")

    monkeypatch.setattr(sync_command, "_once", one_pass)
    monkeypatch.setattr(FollowLoop, "sleep", lambda *_: None)
    result = CliRunner().invoke(main, ["sync", "--follow"], env=ENV)
    assert result.exit_code == ExitStatus.CONFIG, result.output
    assert len(set(seen)) == 3 and None not in seen


class _FailingRunner(_FakeRunner):
    def run_once(self) -> SyncSummary:
        raise ConfigError("kafka.topic_prefix: refused")


def test_a_failed_one_shot_run_is_counted_in_the_textfile(
    monkeypatch: pytest.MonkeyPatch, fresh_metrics: Metrics, tmp_path: Path
) -> None:
    import marketo_stream.sync.runner as runner

    monkeypatch.setattr(runner, "SyncRunner", _FailingRunner)
    textfile = tmp_path / "marketo_stream.prom"
    result = CliRunner().invoke(main, ["sync"], env={**ENV, "MARKETO_STREAM_METRICS__TEXTFILE": str(textfile)})
    assert result.exit_code == ExitStatus.CONFIG
    assert 'marketo_stream_runs_total{outcome="failed"} 1.0' in textfile.read_text()
