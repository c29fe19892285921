"""Failures told truthfully (#15): the status and message a stopped sync ends with name what failed and where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from marketo_stream.errors import ConfigError, MarketoStreamError
from marketo_stream.exit_codes import ExitStatus, outcome
from marketo_stream.marketo.errors import RetryableError
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.runner import SyncRunner
from tests.marketo.support import SandboxAdmin, SandboxClock
from tests.unit.test_run_in_memory import TINY, settings_for


def test_a_download_cut_on_every_retry_exits_7_naming_the_host(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    cut = {"path": r"/file\.json$", "drop_after_bytes": 100, "times": 0}
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"faults": [cut]}, timeout=30).raise_for_status()
    clock = SandboxClock(SandboxAdmin(sandbox))  # the retries' waits advance the sandbox instead of blocking
    runner = SyncRunner(settings_for(sandbox, tmp_path), sink=MemorySink(), clock=clock)
    with pytest.raises(RetryableError) as stopped:
        try:
            runner.run_once()
        finally:
            runner.close()
    assert len(clock.slept) > 1, "the download was retried"
    status, message = outcome(stopped.value)
    assert status is ExitStatus.MARKETO_UNAVAILABLE
    assert urlsplit(sandbox.url).netloc in message
    assert "file.json" in message and "download ended" in message


def test_a_start_date_after_marketos_now_exits_2_before_anything_is_created(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    sink = MemorySink()
    runner = SyncRunner(settings_for(sandbox, tmp_path, start_date="2027-06-01T00:00:00Z"), sink=sink)
    with pytest.raises(ConfigError) as refused:
        try:
            runner.run_once()
        finally:
            runner.close()
    status, message = outcome(refused.value)
    assert status is ExitStatus.CONFIG
    assert "sync.start_date 2027-06-01T00:00:00Z is after Marketo's current time" in message
    assert not sink.tables and not sink.log and not sink.opened, "no topic, schema or state"


def test_a_run_started_right_after_a_stopped_one_keeps_marketos_window(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Marketo's 100 calls per 20 s are the instance's: the calls a stopped run made just before it stopped still
    count. Here Marketo allows 30 and our share is 24; the rerun counts the stopped run's calls (from the state
    topic) and waits for its window instead of being refused with 606. The waits advance the sandbox's clock."""
    sandbox = sandbox_factory(scale="tiny", rate_limit_calls=30, rate_limit_window_seconds=20.0)
    settings = settings_for(sandbox, tmp_path)
    share = settings.marketo.model_copy(update={"calls_per_window": 24, "window_seconds": 20.0})
    settings = settings.model_copy(update={"marketo": share})
    admin = SandboxAdmin(sandbox)
    clock = SandboxClock(admin)
    sink = MemorySink()
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"faults": [{"path": r"/rest/v1/opportunities/roles\.json", "code": "603", "times": 1}]},
        timeout=30,
    ).raise_for_status()

    def run() -> None:
        runner = SyncRunner(settings, sink=sink, clock=clock)
        try:
            runner.run_once()
        finally:
            runner.close()

    with pytest.raises(MarketoStreamError):
        run()
    stored = sink.states()["calls.recent"]
    assert stored["calls"] and not stored["ended"]
    log = f"{sandbox.url}/_sandbox/requests"
    since = max(r["seq"] for r in requests.get(log, timeout=30).json()["requests"])
    run()
    answered = [r["code"] for r in requests.get(log, params={"since": since}, timeout=30).json()["requests"]]
    assert len(answered) > 24, "the rerun needed more than one window's calls"
    assert "606" not in answered
    assert sink.states()["calls.recent"]["ended"]
