"""Each sync phase on its own: the sandbox over HTTP in, the in-memory sink out, the phase's typed state in and
back. No broker: the phase's bookkeeping is what these check (tests/sync judges Kafka's behaviour)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from marketo_stream.activity_effects import Effects
from marketo_stream.bulk.exporter import BulkExporter
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.report import Progress
from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.activities import ActivityPhase, sync_activities
from marketo_stream.sync.catalog import Metadata, build_tables, fetch_metadata
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.entity_phase import sync_entities
from marketo_stream.sync.leads import LeadPhase
from marketo_stream.sync.runner import exporter_config
from marketo_stream.sync.windows import ActivityBounds
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import STATE_VERSION, SyncState, load_effects
from tests.unit.test_run_in_memory import TINY, settings_for


@dataclass
class Bench:
    """One phase's inputs against a tiny sandbox, and what the in-memory sink committed."""

    inputs: RunInputs
    sink: MemorySink
    meta: Metadata
    tally: Tally

    def state(self) -> SyncState:
        return SyncState.load(self.sink.states())


@pytest.fixture
def bench(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> Iterator[Bench]:
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    client = MarketoClient.from_settings(settings.marketo)
    sink = MemorySink()
    meta = fetch_metadata(client)
    tables = build_tables(meta, settings, sink)
    sink.open()
    writer = Writer(sink, settings.sync.transaction_rows)
    now = client.server_now()
    assert now is not None
    exporter = BulkExporter(client, exporter_config(settings))
    inputs = RunInputs(settings, client, exporter, writer, tables, Progress(quiet=True), now)
    try:
        yield Bench(inputs, sink, meta, Tally(inputs.writer))
    finally:
        client.close()


def test_deleted_leads_before_any_lead_is_published_only_move_the_cursor(bench: Bench) -> None:
    state = SyncState.load({})
    phase = LeadPhase(bench.inputs, state.leads, state.deleted_leads, bench.tally)
    phase.deleted_leads()
    assert phase.deleted_cursor.at == bench.inputs.now
    assert bench.state().deleted_leads.at == bench.inputs.now.replace(microsecond=0), "stored to the second"
    assert not bench.tally.tombstones, "a topic must not start with tombstones"


def test_a_first_activity_pass_finishes_every_window_and_commits_its_effects_with_them(bench: Bench) -> None:
    state = SyncState.load({})
    result = sync_activities(bench.inputs, state.activities, state.recent, Effects(), bench.tally, first_run=True)
    assert result.state.done and not result.state.exports
    assert bench.state().activities.to_json() == result.state.to_json()
    assert not result.effects.is_empty(), "a first run's history dates list memberships"
    assert load_effects(bench.sink.states()) == result.effects, "a resumed first run needs them"
    published = sum(bench.tally.records.values())
    assert published == sum(len(bench.sink.records(t)) for t in bench.sink.tables if t.startswith("activity_"))
    assert published > 0 and bench.tally.windows_done > 0 and bench.tally.windows_left == 0


def test_the_initial_lead_load_publishes_every_lead_and_says_it_is_complete(bench: Bench) -> None:
    state = SyncState.load({})
    phase = LeadPhase(bench.inputs, state.leads, state.deleted_leads, bench.tally)
    phase.initial_load()
    assert phase.state.initial_load_complete and not phase.state.exports
    stored = bench.sink.states()["lead"]
    assert stored["v"] == STATE_VERSION and stored["initial_load_complete"]
    assert len(bench.sink.compacted("lead")) == bench.tally.records["lead"] == len(phase.loaded_ids) > 0


def test_an_entity_pass_lists_every_table_and_a_second_publishes_nothing_new(bench: Bench) -> None:
    def entities() -> None:
        sync_entities(
            bench.inputs, bench.state(), bench.meta, Effects(), bench.tally, gone_lead_ids=set(), loaded_lead_ids=set()
        )

    entities()
    for table in ("program", "list", "campaign", "form", "company"):
        assert bench.state().entity(table).complete, table
        assert len(bench.sink.compacted(table)) == bench.tally.records[table] > 0, table
    first = dict(bench.tally.records)
    entities()
    changed = {t: n - first.get(t, 0) for t, n in bench.tally.records.items() if n != first.get(t, 0)}
    assert set(changed) <= {"api_usage"}


def test_an_aborted_transaction_leaves_neither_records_nor_state(bench: Bench) -> None:
    state = SyncState.load({})
    phase = LeadPhase(bench.inputs, state.leads, state.deleted_leads, bench.tally)
    with pytest.raises(RuntimeError), bench.inputs.writer:
        lead = bench.inputs.tables.lead
        assert lead is not None
        bench.inputs.writer.upsert_row(lead, {"id": 1, "email": "a@example.com"})
        raise RuntimeError("stopped midway")
    assert bench.sink.records("lead") == [] and bench.sink.states() == {}
    assert phase.state.initial_load_complete is False


def test_a_resumed_export_is_planned_once_when_the_rerun_plans_its_very_window(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync stopped right after creating its export and rerun while Marketo's clock reads the same second plans
    the same lookback window again: the export is resumed, never requested twice (``make chaos`` found runs
    stopping with "export labels must be unique" on every rerun). The probes would call this rerun quiet and plan
    nothing, so they are told here to say they cannot tell."""
    first = sync_activities(bench.inputs, SyncState.load({}).activities, SyncState.load({}).recent, Effects(),
                            bench.tally, first_run=True)  # fmt: skip
    monkeypatch.setattr(ActivityPhase, "_known_empty", lambda self, done: ActivityBounds())
    state = SyncState.load({})
    stopped = ActivityPhase(bench.inputs, first.state, state.recent, Effects(), bench.tally, collect_fresh=True,
                            collect_history=False)  # fmt: skip
    (window, *_), _ = stopped.plan()
    stopped._on_export_id(window, "job-1")  # created and committed; then the stop

    rerun = ActivityPhase(bench.inputs, first.state, state.recent, Effects(), bench.tally, collect_fresh=True,
                          collect_history=False)  # fmt: skip
    priority, backfill = rerun.plan()

    labels = [request.label for request in priority + backfill]
    assert labels.count(window.label) == 1, labels
    assert priority[0].label == window.label, "the export resumed comes first"
