"""Marketo's faults the sandbox scripts, met by a whole sync (sandbox over HTTP, in-memory sink): each is survived
with nothing lost, or stops the run with the documented exit status and a message that names what failed.

"Nothing lost" is judged against a run of the same world without the fault: every table holds the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.metrics import Metrics
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.rejected import REJECTED_TABLE
from marketo_stream.sync.runner import SyncRunner
from tests.marketo.support import SandboxAdmin, SandboxClock
from tests.unit.test_run_in_memory import TINY, settings_for

ACTIVITY_CREATE = r"/bulk/v1/activities/export/create\.json$"
LEAD_CREATE = r"/bulk/v1/leads/export/create\.json$"
FILE = r"/export/[^/]+/file\.json$"
IDENTITY = r"^/identity/oauth/token$"


def _faulted(sandbox: Sandbox, *rules: dict[str, Any]) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"faults": list(rules)}, timeout=30).raise_for_status()


def _requests(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{sandbox.url}/_sandbox/requests", params={"path": path}, timeout=30)
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["requests"]
    return found


def _sync(sandbox: Sandbox, work: Path) -> tuple[MemorySink, SandboxClock]:
    """A whole run; the retries' waits advance the sandbox's clock instead of blocking."""
    sink, clock = MemorySink(), SandboxClock(SandboxAdmin(sandbox))
    runner = SyncRunner(settings_for(sandbox, work), sink=sink, clock=clock)
    try:
        runner.run_once()
    finally:
        runner.close()
    return sink, clock


def _stopped(sandbox: Sandbox, work: Path) -> tuple[ExitStatus, str]:
    with pytest.raises(Exception) as stopped:
        _sync(sandbox, work)
    return outcome(stopped.value)


def _tables(sink: MemorySink) -> dict[str, dict[str, Any]]:
    """Every table's rows by key, but API usage (which counts the calls, the fault's included)."""
    return {name: sink.compacted(name) for name in sink.tables if name != "api_usage"}


@pytest.fixture
def baseline(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> dict[str, dict[str, Any]]:
    """What a run without faults publishes from the tiny world."""
    sink, _ = _sync(sandbox_factory(**TINY), tmp_path / "baseline")
    return _tables(sink)


def test_an_export_job_marked_failed_is_created_again_and_nothing_is_lost(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, baseline: dict[str, dict[str, Any]]
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": LEAD_CREATE, "job": "fail", "message": "Export failed: internal error"})
    sink, _ = _sync(sandbox, tmp_path)
    created = _requests(sandbox, "leads/export/create")
    assert created[0]["body"] in [later["body"] for later in created[1:]], "the failed job's export was created again"
    assert _tables(sink) == baseline


def test_an_export_job_failed_every_time_exits_7_naming_the_export(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": ACTIVITY_CREATE, "job": "fail", "message": "Export failed: disk full", "times": 0})
    status, message = _stopped(sandbox, tmp_path)
    assert status is ExitStatus.MARKETO_UNAVAILABLE
    assert "export activities" in message and "failed: job Failed: Export failed: disk full" in message
    assert "Marketo's export job did not complete; run again later." in message


def test_a_file_with_the_right_size_and_a_wrong_checksum_is_downloaded_again(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, baseline: dict[str, dict[str, Any]]
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": FILE, "corrupt_body": True, "times": 1})
    sink, _ = _sync(sandbox, tmp_path)
    downloads = [r["path"] for r in _requests(sandbox, "file.json")]
    assert downloads[0] == downloads[1], "the corrupt file was downloaded again"
    assert _tables(sink) == baseline


def test_a_file_corrupt_twice_exits_7_naming_the_export(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": FILE, "corrupt_body": True, "times": 0})
    status, message = _stopped(sandbox, tmp_path)
    first = _requests(sandbox, "file.json")[0]["path"]
    export_id = first.split("/")[-2]
    assert status is ExitStatus.MARKETO_UNAVAILABLE
    assert f"(job {export_id}) did not verify: SHA-256" in message
    assert "Marketo served a corrupt file twice; rerun later." in message
    assert [r["path"] for r in _requests(sandbox, "file.json")] == [first, first], "downloaded twice, then stopped"


def test_identity_answering_503_is_retried(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, baseline: dict[str, dict[str, Any]]
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": IDENTITY, "http_status": 503, "body": "Service Unavailable", "times": 2})
    sink, clock = _sync(sandbox, tmp_path)
    assert [r["status"] for r in _requests(sandbox, "identity")][:3] == [503, 503, 200]
    assert clock.slept, "it waited before asking again"
    assert _tables(sink) == baseline


def test_identity_answering_503_on_every_retry_exits_7_naming_the_host(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": IDENTITY, "http_status": 503, "body": "Service Unavailable", "times": 0})
    status, message = _stopped(sandbox, tmp_path)
    assert status is ExitStatus.MARKETO_UNAVAILABLE
    assert urlsplit(sandbox.url).netloc in message and "identity" in message
    assert len(_requests(sandbox, "identity")) > 1, "retried before giving up"


def test_an_access_token_expiring_mid_run_is_refreshed_and_the_call_repeated(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, baseline: dict[str, dict[str, Any]]
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(sandbox, {"path": r"/status\.json$", "expire_token": True, "after": 1, "times": 1})
    sink, _ = _sync(sandbox, tmp_path)
    statuses = _requests(sandbox, r"/status\.json$")
    expired = next(i for i, r in enumerate(statuses) if r["code"] == "602")
    assert statuses[expired + 1]["path"] == statuses[expired]["path"], "the same call, repeated"
    assert statuses[expired + 1]["code"] is None
    assert len([r for r in _requests(sandbox, "identity") if r["status"] == 200]) == 2, "a new token was fetched"
    assert _tables(sink) == baseline


def test_malformed_rows_in_lead_and_custom_object_files_with_a_right_checksum_are_rejected_not_fatal(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Marketo writes unescaped quotes in text cells of any export: each broken row goes to ``_rejected`` with
    its export, the rest of its file is published."""
    sandbox = sandbox_factory(**TINY, malformed_rows=[[2, "quote"]], malformed_exports=["leads", "customobject"])
    sink, _ = _sync(sandbox, tmp_path)
    truth = requests.get(f"{sandbox.url}/_sandbox/truth/_rejected", timeout=60).json()["records"]
    lead_exports = {r["path"].split("/")[-2] for r in _requests(sandbox, r"/leads/export/[^/]+/file\.json$")}
    car_exports = {r["path"].split("/")[-2] for r in _requests(sandbox, r"/car_c/export/[^/]+/file\.json$")}
    assert lead_exports & {t["export_id"] for t in truth} and car_exports & {t["export_id"] for t in truth}
    rejected = {(v["export_id"], v["line"]) for _, v in sink.records(REJECTED_TABLE) if v}
    assert rejected == {(t["export_id"], t["line"]) for t in truth}
    assert sink.compacted("lead") and sink.compacted("custom_object_car_c")


def test_calls_answered_with_an_error_are_counted_by_endpoint_and_code_for_the_summary_and_the_metrics(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    _faulted(
        sandbox,
        {"path": r"/rest/v1/lists\.json$", "code": "606", "times": 1},
        {"path": r"/rest/asset/v1/programs\.json$", "http_status": 502, "times": 1},
    )
    runner = SyncRunner(settings_for(sandbox, tmp_path), sink=MemorySink(), clock=SandboxClock(SandboxAdmin(sandbox)))
    try:
        summary = runner.run_once()
    finally:
        runner.close()

    assert summary.api_errors == {
        ("GET /rest/v1/lists.json", "606"): 1,
        ("GET /rest/asset/v1/programs.json", "HTTP 502"): 1,
    }
    metrics = Metrics()
    metrics.record_run(summary, "mkto")
    calls = {
        (s.labels["endpoint"], s.labels["code"]): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
        if s.name == "marketo_stream_api_calls_total"
    }
    lists = summary.api_calls["GET /rest/v1/lists.json"]
    assert calls[("GET /rest/v1/lists.json", "606")] == 1
    assert calls[("GET /rest/v1/lists.json", "ok")] == lists - 1 >= 1, "the retry answered"
    assert calls[("GET /rest/asset/v1/programs.json", "HTTP 502")] == 1
    assert "606" in summary.render() and "HTTP 502" in summary.render()
