"""Bulk rows read, converted and encoded by worker processes (``sync.row_workers``), on the real broker: the topics
hold byte for byte what the single-process path publishes, and a worker killed mid-transaction leaves nothing of
that transaction visible, the rerun completing the topics exactly."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from bench.bench_rows import Run, completed, write_activities
from bench.endpoints import BOOTSTRAP
from marketo_stream.activity_effects import EFFECT_TYPES, Effects
from marketo_stream.errors import RowWorkerError
from marketo_stream.sink.fields import TABLE_HEADER
from marketo_stream.sync import row_workers
from marketo_stream.sync.row_workers import RowWorkers
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import SyncState
from tests.infra import Infra

pytestmark = pytest.mark.kafka

ROWS = 12_000
HOSTILE = [
    b'30000000001,5,2026-09-03T10:00:00Z,1,null,4711,Stray "quote in an unquoted value,null\n',
    b"30000000002,5,2026-09-03T10:00:01Z,1,null,4711,too few columns\n",
    b'30000000003,5,2026-09-03T10:00:02Z,6,null,4711,x,"{""Campaign Run ID"":""not a number""}"\n',
    b'30000000004,5,2026-09-03T10:00:03Z,13,null,null,"a value\nover\nthree lines",{not json\n',
    b'30000000005,5,2026-09-03T10:00:04Z,24,null,4711,"quoted, with ""quotes""\r\nand a break",null\n',
    b'30000000006,7,2026-09-03T10:00:05Z,32,null,null,null,"{""Merge IDs"":""[8,9]"",""Master Updated"":true}"\n',
]
"""Rows Marketo may serve: malformed (to the dead-letter topic), values that fit no column (rejected too),
quoted line breaks; one stray quote, which makes a cut by quote parity land inside a record; a Merge Leads (a type
without a table here) whose attributes name the leads merged away."""


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    return activity_file(tmp_path / "activities.csv", HOSTILE)


def activity_file(path: Path, hostile: list[bytes]) -> Path:
    """The bench's activity file (the bench world's type mix, quoted multi-line and non-ASCII values) with the
    hostile rows spliced in at a few places."""
    write_activities(path, ROWS)
    lines = path.read_bytes().split(b"\n")
    starts = [n for n, line in enumerate(lines) if n and re.match(rb"2\d{10},", line)]  # where a record begins
    at = {starts[len(starts) * (k + 1) // (len(hostile) + 1)]: row for k, row in enumerate(hostile)}
    out = [at.get(n, b"") + line + b"\n" for n, line in enumerate(lines[:-1])] + [lines[-1]]
    path.write_bytes(b"".join(out))
    return path


@pytest.fixture
def small_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spans of 64 KB, and workers for any file: a test-sized file is cut into dozens of spans."""
    monkeypatch.setattr(row_workers, "SPAN_BYTES", 1 << 16)
    monkeypatch.setattr(row_workers, "PARALLEL_MIN_BYTES", 0)


def publish(run: Run, path: Path, workers: int, state: SyncState | None = None) -> Effects:
    """An activity phase (a first run's, or one resumed from ``state``) publishing the export file, as
    ``sync_activities`` runs it: aborted when it raises. Returns the effects it collected."""
    with RowWorkers(run.writer, run.tables.activity_by_type, workers) as rows, run.writer:
        phase = run.activity_phase(rows, state)
        phase._publish(completed(path, "export-1", "activities", 0), collect=EFFECT_TYPES)
        return phase.effects


def topic_content(run: Run) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed record of the run's table topics (read_committed) as (partition, key, value without the
    ``_synced_at`` tail, timestamp, table header), in offset order per partition. Dead letters carry the time they
    were produced (they have no event time), so theirs is left out."""
    config = run.sink.config
    topics = {config.topic(t.spec.topic_suffix): True for t in run.published()} | {config.topic("_rejected"): False}
    content = {}
    for topic, timed in sorted(topics.items()):
        records = read_raw(topic)
        if records:
            content[topic[len(run.prefix) :]] = [r if timed else (*r[:3], None, *r[4:]) for r in records]
    return content


def read_raw(topic: str) -> list[tuple[Any, ...]]:
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"rows-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=30).topics.get(topic)
        if meta is None or meta.error is not None:
            return []
        parts = [TopicPartition(topic, p, 0) for p in sorted(meta.partitions)]
        consumer.assign(parts)
        remaining, out = {p.partition for p in parts}, []
        deadline = time.monotonic() + 60
        while remaining and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                remaining.discard(msg.partition())
                continue
            headers = dict(msg.headers() or [])
            out.append((msg.partition(), msg.offset(), msg.key(), without_synced_at(msg.value()),
                        msg.timestamp(), headers.get(TABLE_HEADER)))  # fmt: skip
        assert not remaining, f"{topic}: not read to its end"
        return [record[:1] + record[2:] for record in sorted(out, key=lambda r: (r[0], r[1]))]
    finally:
        consumer.close()


def without_synced_at(value: bytes | None) -> bytes | None:
    """The value's bytes but for its last field, ``_synced_at`` (a union branch then a varint), which differs by
    design between runs."""
    if value is None:
        return None
    start = len(value) - 1
    while value[start - 1] & 0x80:
        start -= 1
    assert value[start - 1] == 2, "the value ends in the non-null branch of _synced_at"
    return value[: start - 1]


@pytest.fixture
def runs(infra: Infra, tmp_path: Path) -> Iterator[list[Run]]:
    made: list[Run] = []
    yield made
    for run in made:
        run.close()


def new_run(runs: list[Run], tmp_path: Path, **sync: str) -> Run:
    work = tmp_path / f"work-{len(runs)}"
    work.mkdir()
    run = Run(work, prefix="test-rows", **sync)
    runs.append(run)
    return run


def test_workers_publish_byte_for_byte_what_the_sync_process_publishes(
    runs: list[Run], tmp_path: Path, export_file: Path, small_spans: None
) -> None:
    alone = new_run(runs, tmp_path, transaction_rows="3000")
    effects = publish(alone, export_file, workers=1)
    parallel = new_run(runs, tmp_path, transaction_rows="3000")
    parallel_effects = publish(parallel, export_file, workers=2)

    expected = topic_content(alone)
    assert sum(len(records) for records in expected.values()) == ROWS + len(HOSTILE) - 1, "Merge Leads has no table"
    assert len(expected[".activity_visit_webpage"]) > 1000
    assert len(expected["._rejected"]) == 3, "malformed rows and values that fit no column are dead letters"
    assert topic_content(parallel) == expected
    assert parallel.tally.records == alone.tally.records
    assert parallel.tally.rejected_rows == alone.tally.rejected_rows == 3
    assert {8, 9} <= effects.merged_away, "the Merge Leads row's attributes were read"
    assert len(effects.list_changes) > 100 and effects.programs_to_refresh and effects.leads_to_refresh
    assert parallel_effects.to_json() == effects.to_json(), "the same effects from the columns the workers hand back"


def test_a_worker_killed_mid_transaction_leaves_no_part_of_it_and_the_rerun_completes_the_topics(
    runs: list[Run], tmp_path: Path, small_spans: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_file = activity_file(tmp_path / "activities.csv", HOSTILE[1:])  # no stray quote: workers read it all
    truth = new_run(runs, tmp_path, transaction_rows="2000")
    publish(truth, export_file, workers=1)

    crashed = new_run(runs, tmp_path, transaction_rows="2000")
    produced = {"records": 0}
    original = Writer.upsert_encoded

    def kill_a_worker_mid_transaction(self: Writer, *args: Any) -> bool:
        produced["records"] += 1
        if produced["records"] == 5_000:  # two transactions committed, half of the third produced
            (victim, *_) = multiprocessing.active_children()
            os.kill(victim.pid or 0, signal.SIGKILL)
            victim.join(30)
        return original(self, *args)

    monkeypatch.setattr(Writer, "upsert_encoded", kill_a_worker_mid_transaction)
    with pytest.raises(RowWorkerError, match="row worker process ended unexpectedly"):
        publish(crashed, export_file, workers=2)
    monkeypatch.setattr(Writer, "upsert_encoded", original)

    committed = topic_content(crashed)
    count = sum(len(records) for records in committed.values())
    assert 4_000 <= count < 5_000, "whole transactions only: nothing of the one open when the worker died"
    expected = topic_content(truth)
    for topic, records in committed.items():
        assert records == expected[topic][: len(records)], f"{topic}: the committed part is the truth's beginning"

    state = crashed.restart()
    publish(crashed, export_file, workers=2, state=state)

    assert topic_content(crashed) == expected
