"""A prepared sandbox (``prepare_exports``) serves exactly what a sandbox deriving as it goes serves: export files
byte for byte (rows, order, quoting, checksum) and REST activity pages, for any filter; its preparation is kept in a
cache and read back by the next sandbox of the same world."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marketo_stream.sandbox import Sandbox
from marketo_stream.sandbox.bulk import csvfile
from marketo_stream.sandbox.bulk.requests import ACTIVITY_FIELDS, parse_request
from marketo_stream.sandbox.bulk.rows import prepared_lines, rows
from marketo_stream.sandbox.prepare import KEEP_ENTRIES
from marketo_stream.sandbox.timefmt import DAY, iso_z
from tests.sandbox.client import Api, run_export, since, walk_activities

WORLD = {
    "seed": 5,
    "future_days": 30,
    "late_commit_probability": 0.4,  # many rows committed hours after their activityDate: the late-commit edge
    "rate_limit_calls": 1_000_000,
    "daily_quota": 10_000_000,
}
ACTIVITIES = "/bulk/v1/activities/export"
LEADS = "/bulk/v1/leads/export"
MEMBERS = "/bulk/v1/program/members/export"


def _pair(sandbox_factory: Callable[..., Sandbox], cache: Path, **overrides: Any) -> tuple[Sandbox, Sandbox]:
    """(prepared, deriving) sandboxes of the same world."""
    prepared = sandbox_factory(**WORLD, **overrides, prepare_exports=True, prepare_cache_dir=str(cache))
    return prepared, sandbox_factory(**WORLD, **overrides)


def _file(sandbox: Sandbox, body: dict[str, Any], as_of: float, path: Path, *, prepared: bool) -> bytes:
    spec = parse_request("activities", "", body, max_days=31, updated_at_ok=True, lead_fields=())
    world = sandbox.state.world
    if prepared:
        chunks = prepared_lines(spec, world, as_of)
        assert chunks is not None, "a CSV export of any fields in any order is assembled from prepared lines"
        csvfile.write_lines(path, csvfile.line(spec.headers, ",").encode(), chunks)
    else:
        csvfile.write(path, "CSV", list(spec.headers), rows(spec, world, as_of))
    return path.read_bytes()


def test_prepared_activity_files_are_the_derived_files_byte_for_byte(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    prepared, deriving = _pair(sandbox_factory, tmp_path / "cache")
    now = deriving.state.clock.now()
    filters: list[dict[str, Any]] = [
        {},
        {"activityTypeIds": [1, 6, 7, 10, 11]},  # the late-committing types
        {"activityTypeIds": [12, 13, 24, 25, 104, 32]},
        {"activityTypeIds": [1], "primaryAttributeValueIds": [8001, 8003, 99]},
        {"activityTypeIds": [6, 7], "primaryAttributeValueIds": [4001, 4002]},
        {"activityTypeIds": [12, 13], "primaryAttributeValues": ["Lead Score", "Job Title", "nobody"]},
        {"activityTypeIds": [100001, 100002, 22]},
    ]
    log = deriving.state.world.log
    late = [a for day in range(int(now // DAY) - 20, int(now // DAY)) for a in log.day(day) if a.commit > a.date + 600]
    assert len(late) >= 3
    halfway = [a.date + (a.commit - a.date) // 2 for a in late[::7][:3]]  # a row dated before, committed after
    instants = [now, now - 2 * DAY + 4321, now + 9 * DAY + 77, *halfway]
    compared, rows_seen = 0, [0] * len(filters)
    for as_of in instants:
        windows = []
        for end_before, days in ((0, 31), (0, 1), (0.3, 2.5), (40, 31), (92, 10), (119, 31)):
            end = as_of - end_before * DAY
            windows.append({"startAt": iso_z(end - days * DAY + 1), "endAt": iso_z(end)})
        windows.append({"startAt": iso_z(late[1].date), "endAt": iso_z(late[-2].date)})  # both ends are activities
        for window in windows:
            for number, extra in enumerate(filters):
                body = {"filter": {"createdAt": window, **extra}}
                fast = _file(prepared, body, as_of, tmp_path / "fast.csv", prepared=True)
                slow = _file(deriving, body, as_of, tmp_path / "slow.csv", prepared=False)
                assert fast == slow, (body, as_of)
                compared += 1
                rows_seen[number] += slow.count(b"\n") - 1
    assert compared == len(instants) * 7 * len(filters)
    assert all(seen > 0 for seen in rows_seen), rows_seen
    assert rows_seen[0] > 5_000, "the comparison covers a good part of the world"


def _columns(data: bytes) -> dict[str, list[str]]:
    """Each column of a CSV file by its header, as the bytes of its cells."""
    header, *records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return {name: [record[i] for record in records] for i, name in enumerate(header)}


def test_any_field_order_is_served_from_prepared_lines_as_the_plain_path_writes_it(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    prepared, deriving = _pair(sandbox_factory, tmp_path / "cache")
    now = deriving.state.clock.now()
    window = {"startAt": iso_z(now - 31 * DAY + 1), "endAt": iso_z(now)}
    every = [*ACTIVITY_FIELDS, "actionResult"]
    shuffled = random.Random(15).sample(every, len(every))
    orders = [shuffled, list(reversed(ACTIVITY_FIELDS)), ["attributes", "marketoGUID"], ["actionResult"], ["leadId"]]
    default = _file(prepared, {"filter": {"createdAt": window}}, now, tmp_path / "default.csv", prepared=True)
    by_column = _columns(default)
    assert len(by_column["marketoGUID"]) > 500
    assert b'"{""' in default, "quoted cells (attributes) are among the rows"
    for fields in orders:
        body = {"fields": fields, "filter": {"createdAt": window}}
        fast = _file(prepared, body, now, tmp_path / "fast.csv", prepared=True)
        slow = _file(deriving, body, now, tmp_path / "slow.csv", prepared=False)
        assert fast == slow, fields
        again = _pair(sandbox_factory, tmp_path / "cache")[0]
        assert _file(again, body, now, tmp_path / "again.csv", prepared=True) == fast, "the view read from the cache"
        columns = _columns(fast)
        assert list(columns) == fields
        for name in fields:
            expected = by_column.get(name, ["succeeded"] * len(by_column["marketoGUID"]))
            assert columns[name] == expected, name
    assert len(list((tmp_path / "cache").glob("*/view-*"))) == len(orders), "one view per choice of fields, kept"


def test_export_jobs_of_a_prepared_sandbox_serve_the_same_files(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    prepared, deriving = _pair(sandbox_factory, tmp_path / "cache")
    october = {"startAt": "2026-10-01T00:00:00Z", "endAt": "2026-10-31T23:59:59Z"}
    recent = {"startAt": "2026-10-20T07:00:00Z", "endAt": "2026-11-02T15:00:00Z"}  # ends now: late rows not there
    exports = [
        (ACTIVITIES, {"filter": {"createdAt": october, "activityTypeIds": [1, 6, 12, 13]}}),
        (ACTIVITIES, {"filter": {"createdAt": recent}, "columnHeaderNames": {"leadId": "Lead"}}),
        (ACTIVITIES, {"fields": ["marketoGUID", "activityTypeId", "actionResult"], "filter": {"createdAt": recent}}),
        (ACTIVITIES, {"format": "TSV", "filter": {"createdAt": october, "activityTypeIds": [2, 9]}}),
        (LEADS, {"fields": ["id", "email", "interestNotes", "updatedAt"], "filter": {"createdAt": october}}),
        (MEMBERS, {"fields": ["leadId", "statusName", "updatedAt"], "filter": {"programIds": [1001, 1002]}}),
    ]  # fmt: skip
    fast_api, slow_api = Api(prepared), Api(deriving)
    for base, body in exports:
        fast_job, fast = run_export(fast_api, base, body)
        slow_job, slow = run_export(slow_api, base, body)
        assert fast == slow, body
        assert fast_job["fileChecksum"] == slow_job["fileChecksum"]
        assert fast_job["numberOfRecords"] == slow_job["numberOfRecords"] > 0


def test_prepared_rest_activity_pages_are_the_derived_pages(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    prepared, deriving = _pair(sandbox_factory, tmp_path / "cache")
    walks: list[tuple[str, str, dict[str, Any]]] = [
        ("/rest/v1/activities/deletedleads.json", "2026-09-01T00:00:00Z", {"batchSize": 3}),
        ("/rest/v1/activities.json", "2026-10-01T00:00:00Z", {"activityTypeIds": "1,6,12,104", "batchSize": 37}),
        ("/rest/v1/activities.json", "2026-07-01T00:00:00Z", {"activityTypeIds": "24", "assetIds": "2001,2003"}),
        ("/rest/v1/activities.json", "2026-07-01T00:00:00Z", {"activityTypeIds": "13,22", "leadIds": "1001,1050,1200"}),
        (
            "/rest/v1/activities/leadchanges.json",
            "2026-09-15T00:00:00Z",
            {"fields": "city,leadStatus", "batchSize": 50},
        ),
    ]
    for advance in (0, 3 * DAY):
        for sandbox in (prepared, deriving):
            Api(sandbox).advance(advance, reauthenticate=False)
        for path, moment, params in walks:
            answers = []
            for sandbox in (prepared, deriving):
                api = Api(sandbox)
                answers.append(walk_activities(api, path, since(api, moment), **params))
            assert answers[0] == answers[1], (path, params, advance)
            assert sum(len(page) for page in answers[0][0]) > 0, (path, params)


def test_a_second_sandbox_of_the_same_world_reads_the_preparation_from_the_cache(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    settings = {"scale": "tiny", "prepare_exports": True, "prepare_cache_dir": str(tmp_path)}
    first = sandbox_factory(**settings)
    again = sandbox_factory(**settings)
    other = sandbox_factory(**settings, seed=8)
    made, read, elsewhere = (s.state.preparation for s in (first, again, other))
    assert made is not None and read is not None and elsewhere is not None
    assert (made.from_cache, read.from_cache, elsewhere.from_cache) == (False, True, False)
    assert made.directory == read.directory != elsewhere.directory
    assert made.activities == read.activities > 0
    stats = Api(again).admin("GET", "stats")
    assert stats["prepared"]["from_cache"] is True
    assert stats["prepared"]["directory"] == str(read.directory)
    assert Api(sandbox_factory(scale="tiny")).admin("GET", "stats")["prepared"] is None


def test_the_cache_keeps_only_the_most_recently_used_worlds(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    directories = []
    for seed in range(1, KEEP_ENTRIES + 3):
        sandbox = sandbox_factory(scale="tiny", seed=seed, prepare_exports=True, prepare_cache_dir=str(tmp_path))
        assert sandbox.state.preparation is not None
        directories.append(sandbox.state.preparation.directory)
    kept = sorted(p for p in tmp_path.iterdir())
    assert len(kept) == KEEP_ENTRIES
    assert directories[-1] in kept
