"""Sink throughput: encode + produce in transactions on the real broker, next to a bare fastavro encode loop.

Both loops run over the same ~200k lead-like Avro-ready rows (20 columns) in the same process and run; the
figure that matters is their ratio (target ≥ 0.8). Also printed: the row converter (CSV strings → Avro-ready
dicts), which runs before encoding on the real path. Needs `make up` (broker and registry on loopback).

What the sink does to stay close to the bare loop: one fastavro call per value with the schema parsed once,
the 5-byte frame and single-long/string keys written directly (no fastavro call for keys), one positional
``produce`` per record with no delivery callbacks (``delivery.report.only.error``; the commit reports
failures), ``linger.ms=50``, 1 MB batches, lz4, a 1M-message local queue, and commits per 20k rows. The
broker shares the two cores with this process, so the ratio drops when other work loads the machine.
"""

from __future__ import annotations

import io
import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import fastavro
from confluent_kafka.admin import AdminClient

from bench.endpoints import BOOTSTRAP, REGISTRY
from marketo_stream.schema import RowConverter, lead_table
from marketo_stream.sink import KafkaSink, SinkConfig, TableSchema

ROWS = int(os.environ.get("BENCH_SINK_ROWS", "200000"))
PER_TRANSACTION = 20_000
ROUNDS = 3

FIELDS = [
    ("id", "integer"),
    ("email", "email"),
    ("firstName", "string"),
    ("lastName", "string"),
    ("company", "string"),
    ("title", "string"),
    ("phone", "phone"),
    ("city", "string"),
    ("country", "string"),
    ("website", "url"),
    ("createdAt", "datetime"),
    ("updatedAt", "datetime"),
    ("dateOfBirth", "date"),
    ("leadScore", "score"),
    ("annualRevenue", "currency"),
    ("numberOfEmployees", "integer"),
    ("unsubscribed", "boolean"),
    ("leadSource", "string"),
    ("leadStatus", "string"),
    ("Favourite_Colour__c", "string"),
]
TABLE = lead_table([{"name": n, "dataType": t} for n, t in FIELDS])


def csv_rows(count: int) -> list[dict[str, str]]:
    """Rows as a Bulk Extract CSV gives them: strings, `null` for empty."""
    chance = random.Random(42)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    rows = []
    for n in range(count):
        word = chance.choice(words)
        rows.append(
            {
                "id": str(1_000_000 + n),
                "email": f"{word}.{n}@example.com",
                "firstName": word.title(),
                "lastName": f"Surname{n % 977}",
                "company": f"{word.title()} Industries {n % 131}",
                "title": chance.choice(["CTO", "Data Engineer", "VP Marketing", "null"]),
                "phone": f"+1-555-{n % 10_000:04d}",
                "city": chance.choice(["Berlin", "Austin", "Lyon", "Osaka"]),
                "country": chance.choice(["DE", "US", "FR", "JP"]),
                "website": f"https://{word}{n % 50}.example.com",
                "createdAt": f"2024-0{1 + n % 9}-1{n % 10}T1{n % 10}:2{n % 10}:3{n % 10}Z",
                "updatedAt": "2025-03-01T08:00:00Z+0000",
                "dateOfBirth": f"19{60 + n % 40}-0{1 + n % 9}-2{n % 8}",
                "leadScore": str(n % 100),
                "annualRevenue": f"{n * 13.5:.2f}",
                "numberOfEmployees": str(n % 5000),
                "unsubscribed": "true" if n % 7 == 0 else "false",
                "leadSource": chance.choice(["Website", "Webinar", "null"]),
                "leadStatus": chance.choice(["New", "MQL", "SQL"]),
                "Favourite_Colour__c": chance.choice(["red", "green", "blue", ""]),
            }
        )
    return rows


def best(runs: list[float]) -> float:
    return min(runs)


def bare_encode(rows: list[dict[str, Any]]) -> float:
    parsed = fastavro.parse_schema(TABLE.value_schema)
    write = fastavro.schemaless_writer
    started = time.perf_counter()
    for row in rows:
        buffer = io.BytesIO()
        write(buffer, parsed, row)
        buffer.getvalue()
    return time.perf_counter() - started


def sink_produce(sink: KafkaSink, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(rows), PER_TRANSACTION):
        with sink.transaction() as batch:
            upsert = batch.upsert
            for row in rows[start : start + PER_TRANSACTION]:
                upsert("lead", {"id": row["id"]}, row)
            batch.put_state("bench", {"done": start + PER_TRANSACTION})
    return time.perf_counter() - started


def timed(label: str, action: Callable[[], float], count: int) -> float:
    elapsed = action()
    print(f"  {label:<44} {count / elapsed:>10,.0f} rows/s  ({elapsed / count * 1e6:5.2f} µs/row)", flush=True)
    return elapsed


def main() -> None:
    raw = csv_rows(ROWS)
    convert = RowConverter(TABLE.value_schema)
    started = time.perf_counter()
    rows = [convert(row) for row in raw]
    convert_s = time.perf_counter() - started
    encoded = io.BytesIO()
    fastavro.schemaless_writer(encoded, fastavro.parse_schema(TABLE.value_schema), rows[0])
    print(f"{ROWS:,} lead-like rows, {len(FIELDS)} columns, ~{len(encoded.getvalue())} bytes encoded")
    print(f"  {'convert CSV strings -> Avro-ready dicts':<44} {ROWS / convert_s:>10,.0f} rows/s")

    prefix = f"bench-sink-{uuid.uuid4().hex[:8]}"
    config = SinkConfig(BOOTSTRAP, REGISTRY, transactional_id=prefix, topic_prefix=prefix)
    sink = KafkaSink(config)
    sink.open()
    sink.prepare(TableSchema("lead", "lead", TABLE.key_schema, TABLE.value_schema, compacted=True))
    try:
        bare, through_sink = [], []
        for round_ in range(1, ROUNDS + 1):
            print(f" round {round_}", flush=True)
            bare.append(timed("bare fastavro schemaless encode loop", lambda: bare_encode(rows), ROWS))
            through_sink.append(
                timed("sink: encode key+value, produce, commit (txn)", lambda: sink_produce(sink, rows), ROWS)
            )
        ratio = best(bare) / best(through_sink)
        print(f"best of {ROUNDS}: bare {ROWS / best(bare):,.0f} rows/s, sink {ROWS / best(through_sink):,.0f} rows/s")
        print(f"sink / bare = {ratio:.2f} (target >= 0.80), {PER_TRANSACTION:,} rows per transaction")
        print(f"committed: {sink.stats()['committed'][config.topic('lead')]}")
    finally:
        sink.close()
        admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
        for future in admin.delete_topics([config.topic("lead"), config.state_topic_name]).values():
            future.exception(30)


if __name__ == "__main__":
    main()
