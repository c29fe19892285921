"""Malformed export rows go to the dead-letter topic ``<prefix>._rejected``, in their window's transaction, once.

The sandbox breaks chosen activity export rows (``malformed_rows``) before the file's checksum and lists them in
its truth (``_rejected``); the in-memory sink keeps what a read_committed consumer would see."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from marketo_stream.sandbox import Sandbox
from marketo_stream.sink.memory import MemorySink
from marketo_stream.sync.rejected import REJECTED_TABLE, rejected_record
from marketo_stream.sync.runner import SyncRunner
from marketo_stream.sync.writer import Writer
from tests.unit.test_run_in_memory import TINY, settings_for

BROKEN: dict[str, Any] = {"malformed_rows": [[2, "quote"], [3, "json"]]}


def sync(sandbox: Sandbox, work: Path, sink: MemorySink) -> int:
    runner = SyncRunner(settings_for(sandbox, work), sink=sink)
    try:
        return runner.run_once().rejected_rows
    finally:
        runner.close()


def activity_guids(sink: MemorySink) -> set[str]:
    return {
        str(next(iter(key.values())))  # keyed by marketoGUID alone
        for table in sink.tables
        if table.startswith("activity_")
        for key, value in sink.records(table)
        if value is not None
    }


def test_broken_rows_are_rejected_with_their_reason_and_every_good_row_is_published_once(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    clean = MemorySink()
    assert sync(sandbox_factory(**TINY), tmp_path / "clean", clean) == 0
    assert clean.records(REJECTED_TABLE) == []

    sandbox = sandbox_factory(**TINY, **BROKEN)
    sink = MemorySink()
    rejected = sync(sandbox, tmp_path / "broken", sink)
    truth = requests.get(f"{sandbox.url}/_sandbox/truth/_rejected", timeout=60).json()["records"]
    assert {row["kind"] for row in truth} == {"quote", "json"}
    records = sink.records(REJECTED_TABLE)
    assert rejected == len(truth) == len(records) > 0
    assert {(v["export_id"], v["line"]) for _, v in records if v} == {(t["export_id"], t["line"]) for t in truth}
    kinds = {(t["export_id"], t["line"]): t for t in truth}
    for key, value in records:
        assert value is not None and value["table"] == "activity"
        assert key == {"table": "activity", "export_id": value["export_id"], "line": value["line"]}
        broken = kinds[value["export_id"], value["line"]]
        if broken["kind"] == "json":
            assert "column 'attributes' is not a JSON object" in value["reason"], value
            assert value["raw"] == broken["raw"], "the row's text as Marketo wrote it"
        else:  # the unescaped quotes split the attributes into more cells
            assert "columns where the header has" in value["reason"], value
            assert "quoted" in value["raw"]
    assert activity_guids(sink) == activity_guids(clean) - {t["marketoGUID"] for t in truth}

    again = MemorySink(states=sink.states(), published={t.topic_suffix: t.value_schema for t in sink.tables.values()})
    assert sync(sandbox, tmp_path / "broken", again) == 0
    assert again.records(REJECTED_TABLE) == [], "a rerun rejects nothing twice"


def test_a_rejected_row_is_gone_with_its_window_when_the_transaction_aborts(tmp_path: Path) -> None:
    sink = MemorySink()
    from marketo_stream.sync.rejected import REJECTED_SCHEMA

    sink.prepare_all([REJECTED_SCHEMA])
    sink.open()
    writer = Writer(sink, 1000)
    key, value = rejected_record("activity", "a,b", "2 columns where the header has 3", export_id="e1", line=4)
    with pytest.raises(RuntimeError), writer:
        writer.reject(key, value)
        raise RuntimeError("stopped between produce and commit")
    assert sink.records(REJECTED_TABLE) == [] and sink.states() == {}
    with writer:
        writer.reject(key, value)
        writer.commit({"activities": {"v": 4}})
    assert sink.records(REJECTED_TABLE) == [(key, value)]
