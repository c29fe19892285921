"""Sandbox at benchmark scale: a 1,000,000-activity / 100,000-lead world exported over HTTP.

Runs ``marketo-stream sandbox --scale bench`` in its own process, exports every activity of its history with
<=31-day Bulk Extract jobs (two process at once, as in Marketo), downloads the files and prints:
- generation rate: rows the world derived and wrote per second of export processing;
- serving rate: MB/s and rows/s downloading the files over HTTP on loopback;
- the server process's peak RSS (VmHWM), which must stay flat however big the world is.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

DAY = 86_400
SETTINGS = {
    "seed": 1,
    "scale": "bench",
    "future_days": 7,
    "clock_speed": 0,
    "status_refresh_seconds": 0,
    "job_duration_seconds": 0,
    "export_daily_quota_mb": 100_000,
}


def _start(config: Path) -> tuple[subprocess.Popen[str], str, str, str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "marketo_stream", "sandbox", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    lines = [server.stdout.readline() for _ in range(3)]
    url = re.search(r"at (\S+)", lines[0])
    client = re.search(r"client id:\s+(\S+)", lines[1])
    secret = re.search(r"client secret:\s+(\S+)", lines[2])
    assert url and client and secret, lines
    return server, url[1], client[1], secret[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _windows(session: requests.Session, url: str) -> list[tuple[str, str]]:
    now = session.get(f"{url}/_sandbox/clock", timeout=30).json()["epoch"]
    start = now - 120 * DAY - DAY
    windows = []
    while start < now:
        end = min(start + 31 * DAY, now)
        windows.append((_iso(start), _iso(end - 1)))
        start = end
    return windows


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sandbox.json"
        config.write_text(json.dumps(SETTINGS))
        started = time.monotonic()
        server, url, client_id, secret = _start(config)
        try:
            print(f"server ready in {time.monotonic() - started:.1f}s at {url}")
            _run(url, client_id, secret, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _run(url: str, client_id: str, secret: str, pid: int) -> None:
    session = requests.Session()
    identity = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = session.get(f"{url}/identity/oauth/token", params=identity, timeout=30).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{url}/bulk/v1/activities/export"
    began = time.monotonic()
    jobs = []
    for start, end in _windows(session, url):
        body = {"format": "CSV", "filter": {"createdAt": {"startAt": start, "endAt": end}}}
        created = session.post(f"{base}/create.json", json=body, timeout=30).json()
        assert created["success"], created
        export_id = created["result"][0]["exportId"]
        assert session.post(f"{base}/{export_id}/enqueue.json", timeout=30).json()["success"]
        jobs.append(export_id)
    done: dict[str, dict[str, object]] = {}
    while len(done) < len(jobs):
        time.sleep(0.5)  # one list call per poll keeps well inside 100 calls / 20 s
        listing = session.get(f"{base}.json", params={"status": "Completed,Failed"}, timeout=30).json()
        assert listing["success"], listing
        for job in listing.get("result", []):
            assert job["status"] == "Completed", job
            done[str(job["exportId"])] = job
    generated = time.monotonic() - began
    rows = sum(int(str(job["numberOfRecords"])) for job in done.values())
    print(f"export: {len(jobs)} jobs (<=31 days each), {rows:,} activity rows")
    print(f"generation: {rows / generated:,.0f} rows/s ({generated:.1f}s for every job to complete, 2 at a time)")
    size, began = 0, time.monotonic()
    for export_id in jobs:
        digest = hashlib.sha256()
        with session.get(f"{base}/{export_id}/file.json", stream=True, timeout=300) as answer:
            for chunk in answer.iter_content(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        assert "sha256:" + digest.hexdigest() == done[export_id]["fileChecksum"]
    served = time.monotonic() - began
    print(
        f"serving: {size / served / 1e6:,.1f} MB/s, {rows / served:,.0f} rows/s ({size / 1e6:,.0f} MB in {served:.1f}s)"
    )
    print(f"server peak RSS: {_peak_rss_mb(pid):,.0f} MB")


if __name__ == "__main__":
    main()
