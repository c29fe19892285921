"""Freshness of ``sync --follow`` with the streaming tail, against a sandbox with Marketo's real limits and job latency.

The sandbox runs in its own process with its clock ``SPEED`` times faster than real time and every latency scaled
with it: 100 calls per 20 s of Marketo time, export jobs queued and processed for 2 minutes, their status refreshed
once a minute. A ``sync --follow`` process catches up through Bulk Extract (history from three days back), then
the tail takes over; activities are then added at a steady rate (``RATE_PER_MINUTE`` in Marketo time,
``POST /_sandbox/activities``). A read_committed consumer notes when each one lands in Kafka.

Printed, in Marketo time: freshness p50 / p99 / max from the moment an activity becomes visible in Marketo's API (its
commit, which the sandbox knows; some web and email types commit late) to the moment its record is committed in
Kafka, against the targets (p50 <= 30 s, p99 <= 90 s); the activities that were visible but never arrived; and the
API calls per Marketo hour during the measurement (every counted call in the sandbox's request log, bulk passes'
and tail passes') against the share of ``sync --follow`` (``follow.tail_call_share`` of 50,000 a day). The tail's
settings are scaled with the clock so that the share holds in Marketo time. Its topics and subjects are deleted
afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Consumer

from bench.bench_sandbox import _start
from bench.bench_sync import BOOTSTRAP, REGISTRY, ROOT, _clean_up

SPEED = 4.0
"""Marketo seconds per real second."""
RATE_PER_MINUTE = 6.0
MEASURE_REAL_SECONDS = 300.0
DRAIN_REAL_SECONDS = 40.0
TAIL_CALL_SHARE = 0.3
DAILY_CALLS = 50_000
TARGET_P50_S, TARGET_P99_S = 30.0, 90.0
SANDBOX: dict[str, Any] = {
    "seed": 5,
    "scale": "tiny",
    "future_days": 30,
    "clock_speed": SPEED,
    "rate_limit_calls": 100,
    "rate_limit_window_seconds": 20.0 / SPEED,
    "status_refresh_seconds": 60.0,
    "job_duration_seconds": 120.0,
}


def main() -> None:
    prefix = f"bench-rt-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sandbox.json"
        config.write_text(json.dumps(SANDBOX))
        server, url, client_id, secret = _start(config)
        sync: subprocess.Popen[bytes] | None = None
        try:
            now = requests.get(f"{url}/_sandbox/clock", timeout=30).json()["epoch"]
            summary = Path(tmp) / "summary.json"
            env = {
                **os.environ,
                "MARKETO_STREAM_BASE_URL": url,
                "MARKETO_STREAM_CLIENT_ID": client_id,
                "MARKETO_STREAM_CLIENT_SECRET": secret,
                "MARKETO_STREAM_BOOTSTRAP_SERVERS": BOOTSTRAP,
                "MARKETO_STREAM_SCHEMA_REGISTRY_URL": REGISTRY,
                "MARKETO_STREAM_KAFKA__TOPIC_PREFIX": prefix,
                "MARKETO_STREAM_MARKETO__POLL_INTERVAL_SECONDS": str(60.0 / SPEED),
                "MARKETO_STREAM_MARKETO__WINDOW_SECONDS": str(20.0 / SPEED),
                "MARKETO_STREAM_SYNC__WORK_DIR": str(Path(tmp) / "work"),
                "MARKETO_STREAM_SYNC__START_DATE": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3 * 86400)),
                "MARKETO_STREAM_SYNC__FOLLOW_INTERVAL_SECONDS": "3600",
                "MARKETO_STREAM_FOLLOW__TAIL_CALL_SHARE": str(TAIL_CALL_SHARE),
                "MARKETO_STREAM_FOLLOW__DAILY_CALLS": str(int(DAILY_CALLS * SPEED)),  # the share, in Marketo time
                "MARKETO_STREAM_FOLLOW__TAIL_INTERVAL_SECONDS": str(5.0 / SPEED),
            }
            command = [sys.executable, "-m", "marketo_stream", "sync", "--follow", "--quiet"]
            started = time.monotonic()
            sync = subprocess.Popen([*command, "--summary-json", str(summary)], env=env, cwd=ROOT)
            while not summary.exists():
                if sync.poll() is not None:
                    raise RuntimeError(f"sync --follow ended with status {sync.returncode} before its first pass")
                if time.monotonic() - started > 1800:
                    raise RuntimeError("the bulk catch-up took more than 30 minutes")
                time.sleep(1)
            print(f"bulk catch-up: {time.monotonic() - started:.0f} s real, {SPEED:.0f}x clock", flush=True)
            _measure(url, prefix)
        finally:
            if sync is not None and sync.poll() is None:
                sync.send_signal(signal.SIGTERM)
                try:
                    sync.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    sync.kill()
            server.terminate()
            server.wait(timeout=30)
            _clean_up(prefix)


def _measure(url: str, prefix: str) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"bench-rt-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    consumer.subscribe([f"^{prefix.replace('-', '[-]')}[.]activity_.*"])
    arrived: dict[str, float] = {}
    try:
        _poll(consumer, arrived, 10.0)  # the catch-up's records
        first_seq = _last_seq(url)
        clock = requests.get(f"{url}/_sandbox/clock", timeout=30).json()["epoch"]
        mono = time.monotonic()
        minutes = (MEASURE_REAL_SECONDS * SPEED) / 60
        body = {"per_minute": RATE_PER_MINUTE, "minutes": minutes}
        requests.post(f"{url}/_sandbox/activities", json=body, timeout=60).raise_for_status()
        _poll(consumer, arrived, MEASURE_REAL_SECONDS)
        end_marketo = clock + SPEED * (time.monotonic() - mono)
        calls = _counted_calls(url, first_seq)
        _poll(consumer, arrived, DRAIN_REAL_SECONDS)
        live = requests.get(f"{url}/_sandbox/activities", timeout=60).json()["activities"]
    finally:
        consumer.close()

    def marketo_time(real: float) -> float:
        return clock + SPEED * (real - mono)

    visible = [a for a in live if a["commit"] <= end_marketo]
    lags = sorted(marketo_time(arrived[a["guid"]]) - a["commit"] for a in visible if a["guid"] in arrived)
    missing = [a["guid"] for a in visible if a["guid"] not in arrived]
    hours = (end_marketo - clock) / 3600
    share_per_hour = DAILY_CALLS * TAIL_CALL_SHARE / 24
    print(f"activities visible during the measurement: {len(visible)} ({RATE_PER_MINUTE:g}/min Marketo time)")
    if lags:
        p50, p99 = _percentile(lags, 0.50), _percentile(lags, 0.99)
        print(f"freshness p50 {p50:6.1f} s   target <= {TARGET_P50_S:.0f} s   {_verdict(p50 <= TARGET_P50_S)}")
        print(f"freshness p99 {p99:6.1f} s   target <= {TARGET_P99_S:.0f} s   {_verdict(p99 <= TARGET_P99_S)}")
        print(f"freshness max {lags[-1]:6.1f} s   (Marketo time, visible in the API -> committed in Kafka)")
    print(f"visible but not in Kafka after {DRAIN_REAL_SECONDS * SPEED:.0f} s more: {len(missing)}")
    per_hour = calls / hours if hours > 0 else float("nan")
    print(
        f"API calls: {calls} in {hours * 60:.1f} Marketo minutes = {per_hour:.0f}/hour   "
        f"target <= {share_per_hour:.0f}/hour ({TAIL_CALL_SHARE:g} of {DAILY_CALLS:,}/day)   "
        f"{_verdict(per_hour <= share_per_hour)}",
        flush=True,
    )


def _poll(consumer: Consumer, arrived: dict[str, float], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        msg = consumer.poll(min(left, 0.2))
        if msg is None or msg.error():
            continue
        key = msg.key()
        if key:
            arrived.setdefault(_guid(key), time.monotonic())


def _guid(key: bytes) -> str:
    """The ``marketo_guid`` of an activity key: Confluent framing (5 bytes), then one Avro string."""
    length, shift, index = 0, 0, 5
    while True:
        byte = key[index]
        length |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        shift += 7
    size = (length >> 1) ^ -(length & 1)
    return key[index : index + size].decode("utf-8")


def _last_seq(url: str) -> int:
    entries = requests.get(f"{url}/_sandbox/requests", timeout=60).json()["requests"]
    return max((e["seq"] for e in entries), default=0)


def _counted_calls(url: str, since: int) -> int:
    entries = requests.get(f"{url}/_sandbox/requests", params={"since": since}, timeout=60).json()["requests"]
    return sum(1 for e in entries if e.get("counted"))


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


if __name__ == "__main__":
    main()
