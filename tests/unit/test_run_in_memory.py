"""A whole sync pass against the sandbox over HTTP into the in-memory sink: no broker, seconds per run.

The broker-backed tests (tests/sync) judge Kafka's behaviour; these check the phases' bookkeeping: what a run
publishes, what state it leaves, and that a run from that state publishes only what changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from marketo_stream import tables
from marketo_stream.sandbox import Sandbox
from marketo_stream.schema import fixed
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sink.memory import MemorySink
from marketo_stream.state_migrations import STATE_VERSION
from marketo_stream.sync import catalog as catalog_module
from marketo_stream.sync import entity_run
from marketo_stream.sync.runner import SyncRunner
from marketo_stream.tables import FIXED_TABLES, fixed_table
from tests.fast import UNTHROTTLED_WINDOW_SECONDS
from tests.unit.test_state_migrations import fixture_states, republished_after_upgrade

TINY: dict[str, Any] = {"scale": "tiny", "rate_limit_calls": 100_000}


def settings_for(sandbox: Sandbox, work: Path, start_date: str = "2026-09-01T00:00:00Z") -> Settings:
    return load_settings(
        None,
        {
            "MARKETO_STREAM_BASE_URL": sandbox.url,
            "MARKETO_STREAM_CLIENT_ID": sandbox.client_id,
            "MARKETO_STREAM_CLIENT_SECRET": sandbox.client_secret,
            "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": "0",
            "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": UNTHROTTLED_WINDOW_SECONDS,
            "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
            "MARKETO_STREAM_SYNC__START_DATE": start_date,
        },
    )


def run(settings: Settings, sink: MemorySink) -> dict[str, Any]:
    runner = SyncRunner(settings, sink=sink)
    try:
        summary = runner.run_once()
    finally:
        runner.close()
    return {"records": dict(summary.records), "tombstones": dict(summary.tombstones)}


def test_a_first_run_publishes_every_table_and_a_second_only_usage(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(**TINY)
    settings = settings_for(sandbox, tmp_path)
    sink = MemorySink()
    first = run(settings, sink)
    assert first["records"]["lead"] == len(sink.compacted("lead")) > 0
    assert first["records"]["program"] == len(sink.compacted("program"))
    assert sink.transactions["aborted"] == 0
    states = sink.states()
    assert {doc["v"] for doc in states.values()} == {STATE_VERSION}
    assert states["lead"]["initial_load_complete"]

    again = MemorySink(states=states, published={t.topic_suffix: t.value_schema for t in sink.tables.values()})
    assert run(settings, again) == {"records": {"api_usage": 1}, "tombstones": {}}


def test_a_run_resumes_from_the_state_a_version_one_release_left(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    head, states = fixture_states()
    sandbox = sandbox_factory(**head["world"])
    sink = MemorySink(states=states)
    published = run(settings_for(sandbox, tmp_path, head["start_date"]), sink)
    again = republished_after_upgrade(published["records"])
    assert {t: n for t, n in published["records"].items() if t not in again} == head["second_sync"]["records"]
    assert published["tombstones"] == head["second_sync"]["tombstones"]
    assert all(published["records"][t] == len(sink.compacted(t)) for t in again), "each of their rows once"
    assert sink.states()["run"]["v"] == STATE_VERSION


def test_a_table_declared_in_the_catalog_is_read_with_no_other_change(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One declaration and one schema file: the entity phase reads it by its reader, publishes it, tracks it in
    state."""
    schemas = tmp_path / "schemas"
    shutil.copytree(fixed.schemas_dir(), schemas)
    shutil.copy(schemas / "form.avsc", schemas / "form_copy.avsc")
    monkeypatch.setenv("MARKETO_STREAM_SCHEMAS_DIR", str(schemas))
    form = fixed_table("form")
    catalog = (*FIXED_TABLES, replace(form, name="form_copy"))
    for module in (tables, catalog_module, entity_run):
        monkeypatch.setattr(module, "FIXED_TABLES", catalog)

    sink = MemorySink()
    run(settings_for(sandbox_factory(**TINY), tmp_path / "work"), sink)

    assert sink.compacted("form_copy") == sink.compacted("form") != {}
    assert sink.states()["entity.form_copy"]["complete"]
