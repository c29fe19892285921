"""Sandbox at benchmark scale: a 1,000,000-activity / 100,000-lead world, exported and queried over HTTP.

Runs ``marketo-stream sandbox --scale bench`` in its own process, prepared as bench_sync runs it (every activity
derived and rendered, the start instant folded, before the server says it is ready; kept between runs under
``.local/cache/sandbox``), and prints:
- how long the server took to be ready, and whether its preparation was made or read from the cache;
- Bulk Extract: rows written per second of *server CPU* (utime + stime of the server process, so the figure holds
  on a busy machine) for activity exports (31-day ``createdAt`` windows over the whole history: every type the
  sync asks for; the same with the fields in another order, the first time writing a view of the prepared lines
  in that order unless an earlier run left it in the cache; then both orders again, back to back; then a few
  type groups), lead exports (31-day
  windows), program member exports (10 programs a job) and custom object exports (31-day ``updatedAt`` windows),
  one job at a time;
- serving: MB/s and rows/s downloading the activity files over loopback;
- REST: for each family of calls the sync makes, the first call (wall, it may build an index) and the server CPU
  per call after it (averaged over at least 100 calls);
- the server process's peak RSS (VmHWM).

``BENCH_SANDBOX_PLAIN=1`` runs the same without preparation: the reference path, deriving as it goes (slow).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from marketo_stream.sandbox import PINNED_START

DAY = 86_400
ROOT = Path(__file__).resolve().parents[1]
SETTINGS: dict[str, Any] = {
    "seed": 1,
    "scale": "bench",
    "start": PINNED_START,  # the prepared world is cached by its start: a pinned one is prepared once
    "future_days": 7,
    "clock_speed": 0,
    "status_refresh_seconds": 0,
    "job_duration_seconds": 0,
    "export_daily_quota_mb": 100_000,
    "prepare_exports": True,
    "prepare_cache_dir": str(ROOT / ".local" / "cache" / "sandbox"),
}
UNLIMITED = {"rate_limit_calls": 1_000_000, "daily_quota": 10_000_000, "concurrency_limit": 10}
TYPE_GROUPS = {"web and email": [1, 3, 6, 7, 10, 11], "lead changes": [12, 13], "programs and lists": [24, 25, 104]}
MEMBER_FIELDS = "acquiredBy,leadId,membershipDate,programId,reachedSuccess,statusName,trackName,updatedAt,createdAt"
ROLE_FIELDS = "marketoGUID,leadId,role,isPrimary,externalOpportunityId,updatedAt,createdAt"
MIN_CALLS = 100
SHUFFLED_ACTIVITY_FIELDS = [
    "attributes", "activityTypeId", "marketoGUID", "primaryAttributeValue", "activityDate", "leadId", "campaignId",
    "primaryAttributeValueId",
]  # fmt: skip
"""The default activity fields in another order: served from the same prepared lines, as fast."""

Get = Callable[..., dict[str, Any]]


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


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _windows(now: float, days: int = 121, span: int = 31) -> list[dict[str, str]]:
    windows, end = [], now
    while end > now - days * DAY:
        windows.append({"startAt": _iso(max(end - span * DAY, now - days * DAY)), "endAt": _iso(end - 1)})
        end -= span * DAY
    return windows


class Bench:
    def __init__(self, url: str, client_id: str, secret: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.session = requests.Session()
        identity = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        answer = self.session.get(f"{url}/identity/oauth/token", params=identity, timeout=30).json()
        self.session.headers["Authorization"] = f"Bearer {answer['access_token']}"
        self.now: float = self.session.get(f"{url}/_sandbox/clock", timeout=30).json()["epoch"]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.session.get(f"{self.url}{path}", params=params, timeout=300).json()
        assert body.get("success", True), body
        return body

    # -- Bulk Extract ------------------------------------------------------------------------------------------
    def export(self, base: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """One job, created, enqueued and waited for alone: the finished job and the server CPU it took."""
        began = _cpu(self.pid)
        created = self.session.post(f"{self.url}{base}/create.json", json=body, timeout=30).json()
        assert created["success"], created
        export_id = created["result"][0]["exportId"]
        assert self.session.post(f"{self.url}{base}/{export_id}/enqueue.json", timeout=30).json()["success"]
        while True:
            job: dict[str, Any] = self.get(f"{base}/{export_id}/status.json")["result"][0]
            if job["status"] in ("Completed", "Failed"):
                assert job["status"] == "Completed", job
                return job, _cpu(self.pid) - began
            time.sleep(0.02)

    def exports(self, label: str, base: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        jobs, cpu, began = [], 0.0, time.monotonic()
        for body in bodies:
            job, used = self.export(base, body)
            jobs.append(job)
            cpu += used
        rows = sum(int(job["numberOfRecords"]) for job in jobs)
        size = sum(int(job["fileSize"]) for job in jobs)
        print(
            f"  {label}: {rows:,} rows in {len(jobs)} jobs ({size / 1e6:,.0f} MB): "
            f"{rows / max(cpu, 1e-9):,.0f} rows/s of server CPU ({cpu:.2f}s; {time.monotonic() - began:.1f}s wall)",
            flush=True,
        )
        return jobs

    def serve(self, base: str, jobs: list[dict[str, Any]]) -> None:
        size, rows, began = 0, 0, time.monotonic()
        for job in jobs:
            digest = hashlib.sha256()
            with self.session.get(f"{self.url}{base}/{job['exportId']}/file.json", stream=True, timeout=300) as answer:
                for chunk in answer.iter_content(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            assert "sha256:" + digest.hexdigest() == job["fileChecksum"]
            rows += int(job["numberOfRecords"])
        served = time.monotonic() - began
        print(f"serving: {size / served / 1e6:,.1f} MB/s, {rows / served:,.0f} rows/s ({size / 1e6:,.0f} MB)")

    # -- REST ----------------------------------------------------------------------------------------------------
    def family(self, name: str, calls: Callable[[Get], None]) -> None:
        """Runs ``calls`` until at least MIN_CALLS calls were made: the first call's wall time, then the server CPU
        per call of the others."""
        count, first_ms, after_first = 0, 0.0, 0.0

        def get(path: str, **params: Any) -> dict[str, Any]:
            nonlocal count, first_ms, after_first
            began = time.monotonic()
            body = self.get(path, **params)
            count += 1
            if count == 1:
                first_ms, after_first = (time.monotonic() - began) * 1000, _cpu(self.pid)
            return body

        while count < MIN_CALLS:
            calls(get)
        per_call = (_cpu(self.pid) - after_first) / (count - 1) * 1000
        print(f"  {name:34s} first {first_ms:8.1f} ms   then {per_call:6.2f} ms/call of server CPU ({count} calls)")

    def rest(self) -> None:
        now = self.now
        programs = [p["id"] for p in self.get("/rest/asset/v1/programs.json", maxReturn=200).get("result", [])]
        lists = [x["id"] for x in self.get("/rest/v1/lists.json").get("result", [])]
        leads = self._lead_ids()
        since = self.get("/rest/v1/activities/pagingtoken.json", sinceDatetime=_iso(now - 14 * DAY))["nextPageToken"]
        opportunities = [f"EXT-O-{i:05d}" for i in range(1, 3001)]
        families: dict[str, Callable[[Get], None]] = {
            "activities/deletedleads.json": lambda get: _date_pages(get, since),
            "leads/describe.json": lambda get: _each(get, ["/rest/v1/leads/describe.json"]),
            "leads/describe2.json": lambda get: _each(get, ["/rest/v1/leads/describe2.json"]),
            "activities/types.json": lambda get: _each(get, ["/rest/v1/activities/types.json"]),
            "customobjects.json": lambda get: _each(get, ["/rest/v1/customobjects.json"]),
            "customobjects/car_c/describe.json": lambda get: _each(get, ["/rest/v1/customobjects/car_c/describe.json"]),
            "campaigns.json": lambda get: _token_pages(get, "/rest/v1/campaigns.json"),
            "lists.json": lambda get: _token_pages(get, "/rest/v1/lists.json"),
            "asset programs.json": lambda get: _offset_pages(get, "/rest/asset/v1/programs.json"),
            "asset program/{id}.json": lambda get: _each(get, [f"/rest/asset/v1/program/{p}.json" for p in programs]),
            "asset forms.json": lambda get: _offset_pages(get, "/rest/asset/v1/forms.json"),
            "asset emailTemplates.json (approved, draft)": _email_templates,
            "programs/{id}/members.json": lambda get: _per_id(
                get, "/rest/v1/programs/{}/members.json", programs, fields=MEMBER_FIELDS
            ),
            "lists/{id}/leads.json": lambda get: _per_id(get, "/rest/v1/lists/{}/leads.json", lists, fields="id"),
            "companies.json (300 ids)": lambda get: _by_ids(get, "/rest/v1/companies.json", "id", range(1, 6001)),
            "opportunities/roles.json (300 leads)": lambda get: _by_ids(
                get, "/rest/v1/opportunities/roles.json", "leadId", leads, fields=ROLE_FIELDS
            ),
            "opportunities.json (300 ids)": lambda get: _by_ids(
                get, "/rest/v1/opportunities.json", "externalOpportunityId", opportunities
            ),
            "leads.json (300 ids)": lambda get: _by_ids(get, "/rest/v1/leads.json", "id", leads[:3000]),
            "stats/usage/last7days.json": lambda get: _each(get, ["/rest/v1/stats/usage/last7days.json"]),
        }
        for name, calls in families.items():
            self.family(name, calls)

    def _lead_ids(self) -> list[int]:
        """Every lead id, from lead exports (the sync reads them back from its lead topic)."""
        ids: list[int] = []
        for window in _windows(self.now):
            job, _ = self.export("/bulk/v1/leads/export", {"fields": ["id"], "filter": {"createdAt": window}})
            text = self.session.get(f"{self.url}/bulk/v1/leads/export/{job['exportId']}/file.json", timeout=300).text
            ids.extend(int(line) for line in text.splitlines()[1:])
        return sorted(ids)


def _date_pages(get: Get, token: str) -> None:
    while True:
        body = get("/rest/v1/activities/deletedleads.json", nextPageToken=token, batchSize=300)
        token = body["nextPageToken"]
        if not body["moreResult"]:
            return


def _each(get: Get, paths: list[str]) -> None:
    for path in paths:
        get(path)


def _email_templates(get: Get) -> None:
    for status in ("approved", "draft"):
        _offset_pages(get, "/rest/asset/v1/emailTemplates.json", status=status)


def _per_id(get: Get, path: str, ids: list[int], **params: Any) -> None:
    for found in ids:
        _token_pages(get, path.format(found), **params)


def _token_pages(get: Get, path: str, **params: Any) -> None:
    token = None
    while True:
        body = get(path, batchSize=300, **params, **({"nextPageToken": token} if token else {}))
        token = body.get("nextPageToken")
        if not token:
            return


def _offset_pages(get: Get, path: str, **params: Any) -> None:
    offset = 0
    while len(get(path, offset=offset, maxReturn=200, **params).get("result", [])) == 200:
        offset += 200


def _by_ids(get: Get, path: str, field: str, ids: Any, **params: Any) -> None:
    values = [str(i) for i in ids]
    for at in range(0, len(values), 300):
        _token_pages(get, path, filterType=field, filterValues=",".join(values[at : at + 300]), **params)


def main() -> None:
    plain = os.environ.get("BENCH_SANDBOX_PLAIN") == "1"
    settings = {**SETTINGS, **UNLIMITED}
    if plain:
        settings = {k: v for k, v in settings.items() if not k.startswith("prepare_")}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sandbox.json"
        config.write_text(json.dumps(settings))
        started = time.monotonic()
        server, url, client_id, secret = _start(config)
        try:
            print(f"server ready in {time.monotonic() - started:.1f}s at {url} ({'plain' if plain else 'prepared'})")
            prepared = requests.get(f"{url}/_sandbox/stats", timeout=30).json().get("prepared")
            if prepared:
                how = "read from the cache" if prepared["from_cache"] else "made and cached"
                print(f"preparation: {prepared['activities']:,} activities {how} in {prepared['seconds']:.1f}s")
                print(f"  at {prepared['directory']}")
            _run(Bench(url, client_id, secret, server.pid))
            print(f"server peak RSS: {_peak_rss_mb(server.pid):,.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=30)


def _run(bench: Bench) -> None:
    windows = _windows(bench.now)
    activities = "/bulk/v1/activities/export"
    print("Bulk Extract, one job at a time:")
    types = [t["id"] for t in bench.get("/rest/v1/activities/types.json")["result"] if t["id"] != 37]
    every_type = [{"filter": {"createdAt": w, "activityTypeIds": types}} for w in windows]
    jobs = bench.exports("activities, every type but Delete Lead", activities, every_type)
    shuffled = [{**body, "fields": SHUFFLED_ACTIVITY_FIELDS} for body in every_type]
    bench.exports(
        "activities, the same, another field order (first: its view written if not cached)", activities, shuffled
    )
    bench.exports("activities, every type, default order (again)", activities, every_type)
    bench.exports("activities, every type, another field order (again)", activities, shuffled)
    for name, group in TYPE_GROUPS.items():
        bodies = [{"filter": {"createdAt": w, "activityTypeIds": group}} for w in windows]
        bench.exports(f"activities, {name} {group}", activities, bodies)
    fields = [f["rest"]["name"] for f in bench.get("/rest/v1/leads/describe.json")["result"]]
    bench.exports(
        "leads, every field", "/bulk/v1/leads/export", [{"fields": fields, "filter": {"createdAt": w}} for w in windows]
    )
    programs = [p["id"] for p in bench.get("/rest/asset/v1/programs.json", maxReturn=200).get("result", [])]
    member_fields = MEMBER_FIELDS.split(",")
    bench.exports(
        "program members",
        "/bulk/v1/program/members/export",
        [
            {"fields": member_fields, "filter": {"programIds": programs[at : at + 10]}}
            for at in range(0, len(programs), 10)
        ],
    )
    car_fields = ["marketoGUID", "leadId", "vin", "make", "model", "color", "year", "createdAt", "updatedAt"]
    bench.exports(
        "custom objects (car_c)",
        "/bulk/v1/customobjects/car_c/export",
        [{"fields": car_fields, "filter": {"updatedAt": w}} for w in windows],
    )
    bench.serve(activities, jobs)
    print("REST, the calls the sync makes:")
    bench.rest()


if __name__ == "__main__":
    main()
