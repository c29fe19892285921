"""CPU per bulk row, from an export file to ``producer.produce``: reading, converting, encoding, producing, whole.

Builds an activity export file shaped like the sandbox's (the bench world's mix of activity types, JSON
attributes with quoted, multi-line and non-ASCII values, ``null`` cells) and a lead export file with the
sandbox's 25 lead fields, then runs the sync's own code over them into the running broker (`make up`) under a
unique topic prefix, deleted afterwards. Figures are CPU microseconds per row (``time.process_time``, which
counts librdkafka's threads too), so they hold on a busy two-core machine where wall time does not. The
whole path is the sync's: ``ActivityPhase`` publishing one completed export (dedup, effects, routing,
conversion, encoding, producing, transactions of ``transaction_rows``), and ``LeadPhase`` loading one.

The activities' whole path is measured twice: in the sync process (``sync.row_workers = 1``), and with the rows
read, converted and encoded by worker processes (``BENCH_ROW_WORKERS``, default one per core), whose CPU is
counted apart and then with the sync's. Each activity figure is printed with its target, 2/3 of the figure before
this work (``BEFORE``), and the libraries' floor with it: what ``csv.reader``, msgspec and ``producer.produce`` cost
per row on their own, which no code around them can go below.

    .venv/bin/python -m bench bench_rows          # BENCH_ROWS=200000 activity rows, a quarter as many leads
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.endpoints import BOOTSTRAP, REGISTRY
from marketo_stream.activity_effects import EFFECT_TYPES
from marketo_stream.bulk.csvfile import ExportRows
from marketo_stream.bulk.exporter import BulkExporter, CompletedExport, ExporterConfig
from marketo_stream.intervals import Interval
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.report import Progress
from marketo_stream.schema import activity_table, lead_table
from marketo_stream.settings import Settings, load_settings
from marketo_stream.sink import KafkaSink
from marketo_stream.sink.codec import RecordEncoder, record_encoder
from marketo_stream.sync.activities import ActivityPhase, export_request
from marketo_stream.sync.catalog import RunTables
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.leads import LeadPhase
from marketo_stream.sync.published import PublishedTable, publish
from marketo_stream.sync.rejected import REJECTED_SCHEMA
from marketo_stream.sync.row_workers import RowWorkers, default_workers
from marketo_stream.sync.runner import sink_config
from marketo_stream.sync.writer import Writer
from marketo_stream.sync_state import CursorState, LeadState, SyncState
from marketo_stream.tables import LEAD_TABLE
from marketo_stream.tables import activity_table as activity_spec

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
BEFORE = {
    "read": 2.84,
    "convert": 1.39,
    "encode": 2.14,
    "produce": 1.34,
    "whole": 9.90,
}
"""Activities, µs of CPU per row before the row workers (commit 7e095e8: main's 23725e4 with this bench running
again), on the two-core development machine with nothing else running (load average 0.2), 2026-12-07."""
TARGET_SHARE = 2 / 3
SEED = 20260901
WINDOW = Interval(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))

# -- the files ---------------------------------------------------------------------------------------------------

KINDS = {"s": "string", "i": "integer", "b": "boolean", "d": "date", "dt": "datetime", "t": "text", "c": "currency"}
WEB = "Client IP Address, Query Parameters, Referrer URL, User Agent"
MAIL = "Campaign Run ID:i, Choice Number:i, Has Predictive:b, Step ID:i, Test Variant:i"
OPEN = f"{MAIL}, Device, Is Mobile Device:b, Platform, User Agent, Is Bot Activity:b, Bot Activity Pattern"
# id | name | primary attribute | attributes (name[:kind]) | share of rows (the bench world's mix)
TYPE_TABLE = f"""
104 | Change Status in Progression | Program ID | Old Status ID:i, New Status ID:i, Old Status, New Status, \
    Acquired By:b, Success:b, Program Member ID:i, Reason | 25
1 | Visit Webpage | Webpage ID | Webpage URL, Search Engine, Search Query, {WEB} | 24
6 | Send Email | Mailing ID | {MAIL} | 21
7 | Email Delivered | Mailing ID | {MAIL} | 20
13 | Change Data Value | Attribute Name | New Value, Old Value, Reason, Source | 19
12 | New Lead | | Created Date:d, Lead Source, Source Type, SFDC Type, Form Name | 16
24 | Add to List | List ID | Source | 16
10 | Open Email | Mailing ID | {OPEN} | 13
22 | Change Score | Attribute Name | Change Value, New Value:i, Old Value:i, Reason | 7
3 | Click Link | Link ID | Webpage ID:i, {WEB} | 5
25 | Remove from List | List ID | Source | 4
11 | Click Email | Mailing ID | {OPEN}, Link, Link ID:i | 4
2 | Fill Out Form | Webform ID | Form Fields:t, Webpage ID:i, {WEB} | 3
100002 | Purchase Product | Product SKU | Amount:c, Quantity:i, Currency Code, Order Date:dt, Coupon | 2
"""
ActivityType = tuple[int, str, str | None, tuple[tuple[str, str], ...], int]


def _types(table: str) -> tuple[ActivityType, ...]:
    found = []
    for line in table.strip().splitlines():
        type_id, name, primary, attributes, share = (part.strip() for part in line.split("|"))
        pairs = [a.strip().partition(":") for a in attributes.split(",")]
        kinds = tuple((n.strip(), KINDS[k or "s"]) for n, _, k in pairs)
        found.append((int(type_id), name, primary or None, kinds, int(share)))
    return tuple(found)


TYPES = _types(TYPE_TABLE)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
TEXTS = (
    'Asked about "enterprise" pricing, then left',
    "Line one\r\nline two, with a comma",
    "Käufer aus München — wants a demo",
    "one\u2028two",
    "Web service API",
    "Marketo Flow Action",
    "",
)
WORDS = ("Web service API", "Marketo Flow Action", "Invited", "Not in Program", "Desktop", "Windows", "N/A", "")
"""What most text attributes hold; TEXTS (quoted, multi-line, non-ASCII) the rest."""
FORM = 'a:3:{s:9:"FirstName";s:3:"Ann";s:7:"Comment";s:9:"Hi,\r\nthere";}'


def activity_types() -> list[dict[str, Any]]:
    """The types as ``activities/types.json`` lists them."""
    items = []
    for type_id, name, primary, attributes, _ in TYPES:
        item: dict[str, Any] = {"id": type_id, "name": name}
        item["attributes"] = [{"name": a, "dataType": t} for a, t in attributes]
        if primary:
            item["primaryAttribute"] = {"name": primary, "dataType": "integer"}
        items.append(item)
    return items


def _attribute(chance: random.Random, name: str, kind: str, n: int) -> object:
    if kind == "integer":
        return chance.choice((0, 1, chance.randrange(100, 5_000_000)))
    if kind == "boolean":
        return chance.random() < 0.5
    if kind == "currency":
        return round(chance.uniform(1, 5000), 2)
    if kind == "date":
        return f"2026-09-{1 + n % 28:02d}"
    if kind == "datetime":
        return f"2026-09-{1 + n % 28:02d}T10:11:12Z"
    if kind == "text":
        return FORM
    if name == "User Agent":
        return chance.choice(AGENTS)
    if name == "Client IP Address":
        return f"10.{chance.randrange(256)}.{chance.randrange(256)}.{chance.randrange(256)}"
    if name in ("Referrer URL", "Webpage URL", "Link"):
        return chance.choice(("https://www.google.com/", "/careers", "https://news.example.org/a,b"))
    return chance.choice(TEXTS) if chance.random() < 0.2 else chance.choice(WORDS)


def _cell(value: object) -> str:
    """The sandbox's rendering: ``null`` for empty, JSON for objects, quoted when it holds , " CR or LF."""
    if value is None or value == "":
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = str(value)
    if any(ch in text for ch in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _line(values: list[object]) -> str:
    return ",".join(_cell(v) for v in values) + "\n"


ACTIVITY_HEADER = ["marketoGUID", "leadId", "activityDate", "activityTypeId", "campaignId"]
ACTIVITY_HEADER += ["primaryAttributeValueId", "primaryAttributeValue", "attributes"]


def write_activities(path: Path, rows: int) -> None:
    chance = random.Random(SEED)
    weights = [share for *_, share in TYPES]
    step = WINDOW.length.total_seconds() / rows
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(_line(list(ACTIVITY_HEADER)))
        for n in range(rows):
            type_id, _, primary, attributes, _ = chance.choices(TYPES, weights)[0]
            at = WINDOW.start + timedelta(seconds=int(n * step))
            values = {a: _attribute(chance, a, kind, n) for a, kind in attributes}
            primary_id = chance.randrange(1000, 9000) if primary else None
            out.write(
                _line(
                    [
                        20_000_000_000 + n,
                        chance.randrange(1, 100_000),
                        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        type_id,
                        chance.choice((None, 3003, 3117)),
                        primary_id,
                        f"Q1 Webinar {primary_id}.Email 9" if primary else None,
                        values,
                    ]
                )
            )


LEAD_FIELDS = (
    ("id", "integer"), ("email", "email"), ("firstName", "string"), ("lastName", "string"), ("title", "string"),
    ("company", "string"), ("phone", "phone"), ("city", "string"), ("state", "string"), ("country", "string"),
    ("leadSource", "string"), ("leadStatus", "string"), ("leadScore", "integer"), ("unsubscribed", "boolean"),
    ("createdAt", "datetime"), ("updatedAt", "datetime"), ("externalCompanyId", "string"),
    ("customerTier", "string"), ("preferredLanguage", "string"), ("annualBudget", "currency"),
    ("npsScore", "integer"), ("newsletterOptIn", "boolean"), ("trialEndsAt", "datetime"),
    ("lastPurchaseDate", "date"), ("interestNotes", "text"),
)  # fmt: skip


def write_leads(path: Path, rows: int) -> None:
    chance = random.Random(SEED + 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(_line([name for name, _ in LEAD_FIELDS]))
        for n in range(rows):
            values: list[object] = [n + 1, f"ann.{n}@example.com"]
            for name, kind in LEAD_FIELDS[2:]:
                empty = chance.random() < 0.15
                values.append(None if empty else _attribute(chance, name, kind if kind != "text" else "s", n))
            out.write(_line(values))


# -- the run -----------------------------------------------------------------------------------------------------


def settings_for(prefix: str, work: Path, **sync: str) -> Settings:
    """The bench's settings; ``sync``: further ``sync.*`` settings, as text."""
    env = {
        "MARKETO_STREAM_BASE_URL": "http://127.0.0.1:9",
        "MARKETO_STREAM_CLIENT_ID": "bench",
        "MARKETO_STREAM_CLIENT_SECRET": "bench",
        "MARKETO_STREAM_KAFKA__BOOTSTRAP_SERVERS": BOOTSTRAP,
        "MARKETO_STREAM_KAFKA__SCHEMA_REGISTRY_URL": REGISTRY,
        "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
        "MARKETO_STREAM_SYNC__WORK_DIR": str(work),
        **{f"MARKETO_STREAM_SYNC__{name.upper()}": value for name, value in sync.items()},
    }
    return load_settings(None, env)


def cpu(action: Callable[[], object], *, collect_garbage: bool = True) -> float:
    """CPU seconds of ``action``; the stages hold every row at once, which the cyclic garbage collector would
    walk again and again (the sync streams them), so they run without it."""
    gc.collect()
    if not collect_garbage:
        gc.disable()
    started = time.process_time()
    try:
        action()
    finally:
        gc.enable()
    return time.process_time() - started


def report(label: str, seconds: float, rows: int, stage: str | None = None) -> None:
    """One figure; with ``stage``, its target too (2/3 of the activities' figure before the row workers)."""
    figure = seconds / rows * 1e6
    target = ""
    if stage is not None:
        want = TARGET_SHARE * BEFORE[stage]
        target = f"  target <= {want:.2f} (2/3 of {BEFORE[stage]:.2f}): {'met' if figure <= want else 'NOT met'}"
    print(f"  {label:<58} {figure:6.2f} µs/row CPU{target}", flush=True)


class Run:
    """One sink and run context over the bench tables, on topics under a unique prefix."""

    def __init__(self, work: Path, prefix: str = "bench-rows", **sync: str) -> None:
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.settings = settings_for(self.prefix, work, **sync)
        self.sink = KafkaSink(sink_config(self.settings))
        self.sink.open()
        tables = RunTables()
        for item in activity_types():
            spec = activity_spec(int(item["id"]), str(item["name"]))
            tables.activity_by_type[int(item["id"])] = publish(
                spec, activity_table(item, name=spec.name), self.settings
            )
        lead_fields = [{"name": name, "dataType": kind} for name, kind in LEAD_FIELDS]
        tables.lead = publish(LEAD_TABLE, lead_table(lead_fields), self.settings)
        self.tables = tables
        self.sink.prepare_all([*(table.sink_schema() for table in self.published()), REJECTED_SCHEMA])
        self.writer = Writer(self.sink, self.settings.sync.transaction_rows)
        client = MarketoClient.from_settings(self.settings.marketo)
        exporter = BulkExporter(client, ExporterConfig(work_dir=work))
        now = WINDOW.end + timedelta(days=1)
        progress = Progress(quiet=True)
        self.inputs = RunInputs(self.settings, client, exporter, self.writer, tables, progress, now)
        self.tally = Tally(self.writer)

    def restart(self) -> SyncState:
        """As the next process would start: a new sink with the same transactional id (fencing this one's), the
        tables prepared again, the committed state read back."""
        self.sink.close()
        self.sink = KafkaSink(sink_config(self.settings))
        state = SyncState.load(self.sink.open())
        self.sink.prepare_all([*(table.sink_schema() for table in self.published()), REJECTED_SCHEMA])
        self.writer = Writer(self.sink, self.settings.sync.transaction_rows)
        self.inputs = replace(self.inputs, writer=self.writer)
        self.tally = Tally(self.writer)
        return state

    def activity_phase(self, rows: RowWorkers | None = None, state: SyncState | None = None) -> ActivityPhase:
        """A first run's activity phase (every effect collected), from ``state`` (none: a first run's)."""
        state = state or SyncState.load({})
        return ActivityPhase(
            self.inputs,
            state.activities,
            state.recent,
            state.effects,
            self.tally,
            collect_fresh=True,
            collect_history=True,
            rows=rows,
        )

    def published(self) -> list[PublishedTable]:
        found = [t for t in self.tables.activity_by_type.values() if t is not None]
        return found + ([self.tables.lead] if self.tables.lead else [])

    def close(self) -> None:
        self.sink.close()
        topics = [self.sink.config.topic(t.spec.topic_suffix) for t in self.published()]
        admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
        rejected = self.sink.config.topic(REJECTED_SCHEMA.topic_suffix)
        for future in admin.delete_topics([*topics, rejected, self.sink.config.state_topic_name]).values():
            future.exception(30)


def completed(path: Path, label: str, kind: str, rows: int) -> CompletedExport:
    if kind == "activities":
        request = export_request(WINDOW, [t for t, *_ in TYPES], label)
    else:
        request = LeadPhase._request(WINDOW, (), label)
    copy = path.with_name(f"{label}.csv")
    copy.write_bytes(path.read_bytes())  # the phase deletes the file it published
    return CompletedExport(request, label, copy, rows, copy.stat().st_size)


Route = Callable[[ExportRows, list[Any]], PublishedTable | None]


def stages(run: Run, path: Path, route: Route, *, targets: bool = False) -> tuple[int, float]:
    """Reading, converting, encoding and producing on their own, as the phases run them; returns the row count
    and the producing's CPU seconds. ``targets``: print each stage's target (the activities')."""
    holder: list[list[list[Any]]] = []
    file = ExportRows(path)
    seconds = cpu(lambda: holder.append(list(file)), collect_garbage=False)
    rows = holder[0]
    report("read (file -> rows as lists, JSON parsed)", seconds, len(rows), "read" if targets else None)
    pairs = [(table, row) for row in rows if (table := route(file, row)) is not None]
    converted: list[tuple[PublishedTable, list[Any]]] = []

    converters = {table.name: table.values_converter(file.header, file.json_columns) for table, _ in pairs}

    def convert() -> None:
        for table, row in pairs:
            converted.append((table, converters[table.name](row)))

    seconds = cpu(convert, collect_garbage=False)
    report("convert (row -> Avro-ready values, column policies)", seconds, len(pairs), "convert" if targets else None)
    encoders: dict[str, RecordEncoder] = {}
    for table in run.published():
        schema = table.sink_schema()
        encoder = record_encoder(1, schema.key_schema, 2, schema.value_schema)
        assert encoder is not None, f"{table.name}: key fields outside the value"
        encoders[table.name] = encoder
    encoded: list[tuple[str, bytes, bytes]] = []

    def encode() -> None:
        for table, values in converted:
            encoded.append((table.name, *encoders[table.name](values)))

    seconds = cpu(encode, collect_garbage=False)
    report("encode (key + value -> framed Avro)", seconds, len(converted), "encode" if targets else None)
    seconds = cpu(lambda: produce(run, encoded), collect_garbage=False)
    report("produce (producer.produce, transactions)", seconds, len(encoded), "produce" if targets else None)
    return len(rows), seconds


def floor(path: Path, rows: int, produce_seconds: float, whole_seconds: float) -> None:
    """What the libraries' own calls cost per row with no code of the sync around them: ``csv.reader`` over the
    decoded file, msgspec decoding each attributes cell, and ``producer.produce`` (the produce stage). They have to
    run for every row whatever the sync does, so the target minus their sum is all that converting, encoding and
    the phase's loop (dedup, effects, routing, state) could take for the target to be met."""
    holder: list[list[list[str]]] = []

    def read() -> None:
        with path.open("rb") as handle:
            text = handle.read().decode("utf-8")
        holder.append(list(csv.reader(io.StringIO(text, newline="\n"))))

    read_seconds = cpu(read, collect_garbage=False)
    cells = [row[-1] for row in holder[0][1:] if row[-1] not in ("", "null")]
    decode = msgspec.json.Decoder().decode
    json_seconds = cpu(lambda: [decode(cell) for cell in cells], collect_garbage=False)
    parts = {"csv.reader": read_seconds, "msgspec": json_seconds, "produce": produce_seconds}
    total = sum(parts.values()) / rows * 1e6
    room = TARGET_SHARE * BEFORE["whole"] - total
    spent = whole_seconds / rows * 1e6 - total
    said = " + ".join(f"{name} {seconds / rows * 1e6:.2f}" for name, seconds in parts.items())
    print(f"  library floor ({said}) {total:6.2f} µs/row CPU", flush=True)
    print(
        f"  the whole-path target leaves {room:.2f} µs/row for converting, encoding and the phase's loop, which take "
        f"{spent:.2f} today",
        flush=True,
    )


def produce(run: Run, encoded: list[tuple[str, bytes, bytes]]) -> None:
    config = run.sink.config
    producer = Producer({**config.producer_settings(), "transactional.id": f"{config.transactional_id}-bare"})
    producer.init_transactions()
    limit = run.settings.sync.transaction_rows
    for start in range(0, len(encoded), limit):
        producer.begin_transaction()
        for name, key, value in encoded[start : start + limit]:
            producer.produce(config.topic(name), value, key)
        producer.commit_transaction()


def parallel(run: Run, path: Path, count: int) -> None:
    """The whole path with the rows read, converted and encoded by worker processes (``sync.row_workers``): CPU of
    the sync process per row (what bounds rows/s when the workers have cores of their own), of the workers (their
    start included, counted once they have ended), and of all of them, which is what the target is about: workers
    move CPU off the sync process, they do not remove it."""
    workers = int(os.environ.get("BENCH_ROW_WORKERS", "0")) or default_workers()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with RowWorkers(run.writer, run.tables.activity_by_type, workers) as rows:
        phase = run.activity_phase(rows)
        export = completed(path, "activities-parallel", "activities", count)
        seconds = cpu(lambda: phase._publish(export, collect=EFFECT_TYPES))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    report(f"whole path, {workers} row workers: the sync process", seconds, count)
    report(f"whole path, {workers} row workers: the workers together", children, count)
    report(f"whole path, {workers} row workers: all processes", seconds + children, count, "whole")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rows-") as tmp:
        work = Path(tmp)
        activities, leads = work / "activities.csv", work / "leads.csv"
        write_activities(activities, ROWS)
        write_leads(leads, ROWS // 4)
        size = activities.stat().st_size
        print(
            f"{ROWS:,} activity rows ({size / ROWS:.0f} bytes/row), {ROWS // 4:,} lead rows, {len(LEAD_FIELDS)} columns"
        )
        run = Run(work)
        try:
            by_type = run.tables.activity_by_type
            print(" activities")
            type_at = ACTIVITY_HEADER.index("activityTypeId")
            count, produced = stages(run, activities, lambda _, row: by_type.get(int(row[type_at])), targets=True)
            phase = run.activity_phase()
            export = completed(activities, "activities-whole", "activities", count)
            seconds = cpu(lambda: phase._publish(export, collect=EFFECT_TYPES))
            report("whole path (ActivityPhase: file -> produce, committed)", seconds, count, "whole")
            floor(activities, count, produced, seconds)
            parallel(run, activities, count)
            print(" leads")
            lead = run.tables.lead
            count, _ = stages(run, leads, lambda _, row: lead)
            lead_phase = LeadPhase(run.inputs, LeadState(), CursorState(), run.tally)
            export = completed(leads, "leads-whole", "leads", count)
            seconds = cpu(lambda: lead_phase.publish_export(export))
            report("whole path (LeadPhase: file -> produce, committed)", seconds, count)
            records = sum(run.tally.records.values())
            print(f" committed {records:,} records, rejected {run.tally.rejected_rows}")
        finally:
            run.close()


if __name__ == "__main__":
    main()
