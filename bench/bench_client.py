"""Client and bulk layer figures: call overhead, export-to-verified-file throughput, CSV reading speed and memory.

- calls: sequential small REST calls through the whole client (budget, token, code table, retry loop), per second;
- export: activity windows through ``BulkExporter`` against the sandbox at benchmark scale (create, enqueue, poll,
  download, SHA-256 and record-count verification), MB/s and rows/s of the wall time (mostly the sandbox writing
  the files), the calls it made, then the same jobs again from their export ids: download and verification alone;
- reader: ``read_rows`` over Marketo-shaped CSV files of two sizes (quoted JSON attributes, embedded CRLF, NULs), in a
  child process each so that its peak RSS (VmHWM) is the reader's: it must not grow with the file.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from bench.bench_sandbox import SETTINGS, _peak_rss_mb, _start
from marketo_stream.bulk import BulkExporter, ExporterConfig, ExportRequest, read_rows
from marketo_stream.intervals import format_instant, parse_instant
from marketo_stream.marketo import BudgetLimits, ClientConfig, MarketoClient

SANDBOX = {**SETTINGS, "rate_limit_calls": 1_000_000, "daily_quota": 10_000_000}
"""bench_sandbox's world, without the rate limits that would only measure waiting."""
CALLS = 1000
EXPORT_DAYS = 30
READER_SIZES_MB = (25, 100)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = work / "sandbox.json"
        config.write_text(json.dumps(SANDBOX))
        server, url, client_id, secret = _start(config)
        try:
            unlimited = ClientConfig(budget=BudgetLimits(calls_per_window=1_000_000, max_concurrency=10))
            client = MarketoClient(url, client_id, secret, config=unlimited)
            _calls(client)
            _export(client, work / "exports")
            print(f"sandbox peak RSS: {_peak_rss_mb(server.pid):,.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=30)
        for size in READER_SIZES_MB:
            _reader(work / f"activities-{size}mb.csv", size)


def _calls(client: MarketoClient) -> None:
    client.get("/rest/v1/activities/types.json")
    began = time.monotonic()
    for _ in range(CALLS):
        client.get("/rest/v1/activities/types.json")
    seconds = time.monotonic() - began
    print(f"calls: {CALLS / seconds:,.0f} calls/s sequential ({seconds * 1000 / CALLS:.2f} ms per call, loopback)")


def _export(client: MarketoClient, work_dir: Path) -> None:
    now = parse_instant(requests.get(f"{client.base_url}/_sandbox/clock", timeout=30).json()["now"])
    end = now.replace(hour=0, minute=0, second=0)
    halves = [(end - timedelta(days=EXPORT_DAYS), end - timedelta(days=EXPORT_DAYS // 2)),
              (end - timedelta(days=EXPORT_DAYS // 2), end)]  # fmt: skip
    windows = [
        ExportRequest(
            "activities",
            (),
            {"createdAt": {"startAt": format_instant(a), "endAt": format_instant(b - timedelta(seconds=1))}},
            f"activities:{a.date()}",
        )
        for a, b in halves
    ]
    config = ExporterConfig(work_dir=work_dir, poll_interval_seconds=0.2, status_refresh_seconds=0.0)
    exporter = BulkExporter(client, config)
    before = dict(client.call_counts())
    began = time.monotonic()
    done = list(exporter.run(windows))
    seconds = time.monotonic() - began
    size = sum(c.file_size for c in done)
    records = sum(c.number_of_records for c in done)
    print(
        f"export: {len(done)} jobs, {records:,} rows, {size / 1e6:,.1f} MB verified in {seconds:.1f}s "
        f"({size / 1e6 / seconds:,.1f} MB/s, {records / seconds:,.0f} rows/s, both processing slots)"
    )
    calls = {k: v - before.get(k, 0) for k, v in client.call_counts().items() if v - before.get(k, 0)}
    print(f"export calls: {sum(calls.values())} ({', '.join(f'{k} x{v}' for k, v in sorted(calls.items()))})")
    for completed in done:  # again, from the known export ids: only download and verification this time
        completed.path.unlink()
    known = {c.request.label: c.export_id for c in done}
    began = time.monotonic()
    again = list(BulkExporter(client, config).run(windows, known_exports=known))
    seconds = time.monotonic() - began
    assert {c.export_id for c in again} == set(known.values())
    print(f"download + size and SHA-256 checks: {size / 1e6 / seconds:,.1f} MB/s ({seconds:.1f}s)")
    began = time.monotonic()
    rows = sum(1 for c in done for _ in read_rows(c.path))
    seconds = time.monotonic() - began
    print(f"reading the exports: {rows / seconds:,.0f} rows/s ({size / 1e6 / seconds:,.1f} MB/s)")


def _write_csv(path: Path, megabytes: int) -> int:
    rng = random.Random(7)
    header = (
        "marketoGUID,leadId,activityDate,activityTypeId,campaignId,primaryAttributeValueId,primaryAttributeValue,"
        "attributes\n"
    )
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        while out.tell() < megabytes * 1_000_000:
            details = "Mailbox full\r\nRemote server said: 552" if rows % 97 == 0 else "ok"
            attributes = json.dumps({"Webpage URL": f"/p/{rng.randrange(10**6)}", "Details": details, "Score": rows})
            stamp = (start + timedelta(seconds=rows)).strftime("%Y-%m-%dT%H:%M:%SZ")
            nul = "\x00" if rows % 1000 == 0 else ""
            quoted = '"' + attributes.replace('"', '""') + '"'
            out.write(f"{rows},{rng.randrange(10**5)},{stamp},1,null,{rows % 500},Page {nul}{rows},{quoted}\n")
            rows += 1
    return rows


_CHILD = """
import sys, time
from pathlib import Path
from marketo_stream.bulk.csvfile import read_rows
began = time.monotonic()
rows = sum(1 for _ in read_rows(Path(sys.argv[1])))
seconds = time.monotonic() - began
peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:"))
print(rows, seconds, peak / 1024)
"""


def _reader(path: Path, megabytes: int) -> None:
    written = _write_csv(path, megabytes)
    answer = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
    rows, seconds, peak = answer.stdout.split()
    assert int(rows) == written, (rows, written)
    mb = path.stat().st_size / 1e6
    print(
        f"reader, {mb:,.0f} MB file: {int(rows) / float(seconds):,.0f} rows/s, {mb / float(seconds):,.1f} MB/s, "
        f"peak RSS {float(peak):,.0f} MB"
    )
    path.unlink()


if __name__ == "__main__":
    main()
