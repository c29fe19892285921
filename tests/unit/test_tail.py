"""The streaming tail over the in-memory sink: the sandbox over HTTP in, a MemorySink out. Switching between the
tail and Bulk Extract in both directions publishes each activity once, and the same activities as bulk alone."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from marketo_stream.commands.sync import Outputs, follow_loop
from marketo_stream.errors import MarketoStreamError
from marketo_stream.metrics import Metrics
from marketo_stream.report import Progress
from marketo_stream.sandbox import Sandbox
from marketo_stream.settings import Settings
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.runner import SyncRunner
from marketo_stream.sync.tail import TailResult, type_groups
from marketo_stream.sync.tail_loop import TailFollower, TailSession, counted_calls, pause_after
from marketo_stream.sync_state import SyncState
from tests.unit.test_run_in_memory import settings_for

WORLD: dict[str, Any] = {"scale": "tiny", "rate_limit_calls": 100_000, "empty_page_probability": 0.3}


def bulk_pass(settings: Settings, sink: MemorySink, *, follow_tail: bool = False) -> dict[str, int]:
    runner = SyncRunner(settings, sink=sink, follow_tail=follow_tail)
    try:
        return dict(runner.run_once().records)
    finally:
        runner.close()


def tail_pass(settings: Settings, sink: MemorySink) -> TailResult:
    session = TailSession.open(settings, Progress(quiet=True), sink=sink)
    try:
        return session.tail_pass()
    finally:
        session.close()


def add_activities(sandbox: Sandbox, per_minute: float, minutes: float) -> None:
    body = {"per_minute": per_minute, "minutes": minutes}
    requests.post(f"{sandbox.url}/_sandbox/activities", json=body, timeout=30).raise_for_status()


def advance(sandbox: Sandbox, seconds: float) -> None:
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=30).raise_for_status()


def guids(sink: MemorySink) -> Counter[str]:
    """How often each activity GUID was published, over every activity table."""
    return Counter(
        str(next(iter(key.values())))
        for table in sink.tables
        if table.startswith("activity_") and table != "activity_type"
        for key, value in sink.records(table)
        if value is not None
    )


def with_follow(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"follow": settings.follow.model_copy(update=changes)})


def test_tail_and_bulk_switching_both_ways_publish_each_activity_once_and_what_bulk_alone_publishes(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**WORLD)
    settings = with_follow(settings_for(sandbox, tmp_path), bulk_threshold_rows=150, safety_lag_seconds=60)
    sink = MemorySink()
    bulk_pass(settings, sink)  # the catch-up

    add_activities(sandbox, per_minute=2, minutes=30)
    advance(sandbox, 40 * 60)
    quiet = tail_pass(settings, sink)
    assert quiet.handover is None and quiet.published >= 50, "the tail keeps up with a quiet hour"
    end = SyncState.load(sink.states()).tail.end
    assert end is not None and quiet.end == end

    assert bulk_pass(settings, sink, follow_tail=True).get("activity_visit_webpage") is None, (
        "a bulk pass of --follow leaves activities to a tail that keeps up"
    )

    add_activities(sandbox, per_minute=20, minutes=15)  # 300 activities: more than the tail pages
    advance(sandbox, 20 * 60)
    burst = tail_pass(settings, sink)
    assert burst.handover is not None and "150" in burst.handover
    assert not SyncState.load(sink.states()).tail.tokens, "the tail gives the window to Bulk Extract"

    bulk_pass(settings, sink, follow_tail=True)  # tail -> bulk: the burst, and the bulk lookback re-read
    add_activities(sandbox, per_minute=2, minutes=20)
    advance(sandbox, 25 * 60)
    after = tail_pass(settings, sink)  # bulk -> tail: new tokens at the new end of the bulk windows
    assert after.handover is None and after.published > 0

    published = guids(sink)
    assert [guid for guid, times in published.items() if times > 1] == []

    alone = MemorySink()
    bulk_pass(settings, alone)
    assert set(published) == set(guids(alone)), "the tail and bulk together publish what bulk alone does"


def test_a_tail_pass_pages_at_most_ten_types_per_call_and_one_call_per_group_when_quiet(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**{**WORLD, "empty_page_probability": 0.0})
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    bulk_pass(settings, sink)
    tail_pass(settings, sink)  # opens its tokens
    since = len(requests.get(f"{sandbox.url}/_sandbox/requests", timeout=30).json()["requests"])
    tail_pass(settings, sink)
    calls = requests.get(f"{sandbox.url}/_sandbox/requests", params={"since": since}, timeout=30).json()["requests"]
    paged = [c for c in calls if "/rest/v1/activities" in c["path"]]
    types = SyncState.load(sink.states()).activities.done
    groups = type_groups(types)
    assert all(len(group) <= 10 for group in groups)
    assert len([c for c in paged if c["path"].endswith("activities.json")]) == len(groups)
    assert len([c for c in paged if c["path"].endswith("deletedleads.json")]) == 1
    assert not [c for c in paged if c["path"].endswith("pagingtoken.json")], "a resumed tail keeps its tokens"


def test_the_pause_after_a_pass_keeps_the_tail_within_its_share_of_the_daily_calls(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**WORLD)
    settings = with_follow(settings_for(sandbox, tmp_path), tail_call_share=0.1, daily_calls=10_000)
    # 1,000 calls a day: 86.4 s per call
    assert pause_after(5, 2.0, settings) == 5 * 86.4 - 2.0
    assert pause_after(0, 0.0, settings) == settings.follow.tail_interval_seconds
    day = 86_400.0
    passes = day / (5 * 86.4)
    assert passes * 5 <= 10_000 * 0.1, "a day of such passes spends at most the share"


def test_the_calls_of_a_bulk_pass_come_off_the_tails_share_of_its_cycle(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """The share covers the whole ``--follow`` process: the tail of a cycle spends what its bulk pass left of the
    cycle's share, and nothing when the bulk pass spent it all."""
    sandbox = sandbox_factory(**WORLD)
    settings = with_follow(
        settings_for(sandbox, tmp_path), tail_call_share=0.5, daily_calls=10_000, tail_interval_seconds=0
    )
    per_call = 86_400 / (10_000 * 0.5)
    clock = [0.0]
    told = io.StringIO()
    runner = SyncRunner(settings, sink=MemorySink(), follow_tail=True)
    try:
        follower = TailFollower(
            settings,
            Progress(told, interactive=False),
            client=runner.client,
            sink=runner.sink,
            sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds),
            monotonic=lambda: clock[0],
        )
        runner.run_once()
        bulk = counted_calls(runner.client)

        assert follower.follow(bulk * per_call / 2) == bulk * per_call / 2, "the bulk pass spent the cycle's share"
        assert counted_calls(runner.client) == bulk and follower.passes == 0
        assert "no tail passes until the next bulk pass" in told.getvalue(), "and says so"

        runner.run_once()
        second_bulk = counted_calls(runner.client) - bulk
        left_for_tail = 40
        follower.follow((second_bulk + left_for_tail) * per_call)
        tail = counted_calls(runner.client) - bulk - second_bulk
        assert follower.passes >= 3, "the tail polls all the pause"
        assert 0 < tail <= left_for_tail + tail / follower.passes * 2, (
            "within what the bulk pass left (a last pass over)"
        )
    finally:
        runner.close()


def test_a_tail_pass_stopped_midway_resumes_from_its_last_committed_page_publishing_nothing_twice(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**{**WORLD, "empty_page_probability": 0.0})
    settings = settings_for(sandbox, tmp_path)
    settings = settings.model_copy(update={"sync": settings.sync.model_copy(update={"transaction_rows": 100})})
    sink = MemorySink()
    bulk_pass(settings, sink)
    before = len(guids(sink))
    requests.post(
        f"{sandbox.url}/_sandbox/activities", json={"per_minute": 30, "minutes": 30, "types": [1, 6]}, timeout=30
    ).raise_for_status()
    advance(sandbox, 40 * 60)
    refuse = {"path": r"/rest/v1/activities\.json", "after": 2, "times": 0, "code": "1003", "message": "refused"}
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"faults": [refuse]}, timeout=30).raise_for_status()

    with pytest.raises(MarketoStreamError):
        tail_pass(settings, sink)  # two pages of 300 read, the third refused
    stopped = len(guids(sink)) - before
    assert 300 <= stopped < 900, "the pages read before the stop are committed with their token"

    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=30).raise_for_status()
    assert tail_pass(settings, sink).handover is None
    published = guids(sink)
    assert [guid for guid, times in published.items() if times > 1] == []
    alone = MemorySink()
    bulk_pass(settings, alone)
    assert set(published) == set(guids(alone))


def test_a_tail_pass_reaches_the_metrics_with_its_records_calls_and_freshness(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**WORLD)
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    bulk_pass(settings, sink)
    add_activities(sandbox, per_minute=2, minutes=30)
    advance(sandbox, 40 * 60)
    before = {table: len(sink.records(table)) for table in sink.tables}
    passes: list[TailResult] = []
    follower = TailFollower(settings, Progress(quiet=True), sink=sink, on_pass=passes.append, sleep=lambda _: None)

    follower.follow(0.0)  # one pass: no time left after it

    (result,) = passes
    assert result.figures is not None and result.published > 0
    metrics = Metrics()
    metrics.record_tail_pass(result.figures, "mkto")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    published = {
        t: len(sink.records(t)) - before.get(t, 0) for t in sink.tables if len(sink.records(t)) > before.get(t, 0)
    }
    records = {dict(k[1])["topic"]: v for k, v in samples.items() if k[0] == "marketo_stream_records_total"}
    assert records == {f"mkto.{table}": n for table, n in published.items()}, "every record the pass published"
    calls = sum(v for k, v in samples.items() if k[0] == "marketo_stream_api_calls_total")
    assert calls == sum(result.figures.api_calls.values()) > 0
    lags = [v for k, v in samples.items() if k[0] == "marketo_stream_freshness_lag_seconds"]
    assert lags and all(0 <= lag < 40 * 60 for lag in lags), "freshness of what the tail committed, by Marketo's clock"
    assert samples[("marketo_stream_tail_passes_total", ())] == 1
    assert ("marketo_stream_runs_total", (("outcome", "completed"),)) not in samples, "a tail pass is no run"


def test_the_follow_loops_tail_counts_each_of_its_passes_in_the_processs_metrics(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**WORLD)
    textfile = tmp_path / "marketo_stream.prom"
    settings = settings_for(sandbox, tmp_path)
    settings = settings.model_copy(update={"metrics": settings.metrics.model_copy(update={"textfile": textfile})})
    runner = SyncRunner(settings, sink=MemorySink(), follow_tail=True)
    try:
        runner.run_once()
        add_activities(sandbox, per_minute=2, minutes=30)
        advance(sandbox, 40 * 60)
        outputs = Outputs(metrics=Metrics())
        loop = follow_loop(runner, settings, Progress(quiet=True), 0.0, outputs)

        loop.wait(0.0, "a pause with no time in it: one tail pass")
    finally:
        runner.close()

    served = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(outputs.metrics.exposition().decode())
        for s in family.samples
    }
    assert served[("marketo_stream_tail_passes_total", ())] == 1
    assert sum(v for k, v in served.items() if k[0] == "marketo_stream_records_total") > 0
    assert "marketo_stream_tail_passes_total 1.0" in textfile.read_text(), "the textfile is written after the pass"
