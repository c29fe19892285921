"""Export requests (bodies, windows, splitting) and job answers (statuses in every spelling)."""

from __future__ import annotations

import pytest

from marketo_stream.bulk.job import ExportJob, ExportStatus
from marketo_stream.bulk.request import ExportRequest, date_span
from marketo_stream.intervals import Interval, parse_instant
from marketo_stream.marketo.errors import MarketoProtocolError


def activities(start: str, end: str, label: str = "activities:w") -> ExportRequest:
    return ExportRequest("activities", (), {"createdAt": {"startAt": start, "endAt": end}}, label)


def test_split_halves_cover_the_inclusive_window_without_overlap() -> None:
    request = activities("2026-11-01T00:00:00Z", "2026-11-08T23:59:59Z")
    halves = request.split()
    assert halves is not None
    first, second = halves
    assert first.filter["createdAt"] == {"startAt": "2026-11-01T00:00:00Z", "endAt": "2026-11-04T23:59:59Z"}
    assert second.filter["createdAt"] == {"startAt": "2026-11-05T00:00:00Z", "endAt": "2026-11-08T23:59:59Z"}
    assert (first.label, second.label) == ("activities:w/1", "activities:w/2")
    assert first.part_of == second.part_of == "activities:w"
    nested = second.split()
    assert nested is not None and nested[0].part_of == "activities:w"


def test_a_half_open_window_becomes_an_inclusive_date_filter_that_reads_back_as_the_same_window() -> None:
    window = Interval(parse_instant("2026-11-01T00:00:00Z"), parse_instant("2026-11-08T00:00:00Z"))
    span = date_span(window)
    assert span == {"startAt": "2026-11-01T00:00:00Z", "endAt": "2026-11-07T23:59:59Z"}
    request = ExportRequest(kind="leads", fields=("id",), filter={"createdAt": span}, label="leads:w")
    assert request.window_seconds() == (window.end - window.start).total_seconds()


def test_windows_too_short_or_absent_are_not_split() -> None:
    assert activities("2026-11-01T00:00:00Z", "2026-11-01T00:59:59Z").split(min_seconds=3600.0) is not None
    assert activities("2026-11-01T00:00:00Z", "2026-11-01T00:30:00Z").split(min_seconds=3600.0) is None
    by_list = ExportRequest("leads", ("id",), {"staticListId": 5}, "leads:list5")
    assert by_list.split() is None and by_list.window_seconds() is None


def test_paths_and_create_bodies_per_kind() -> None:
    lead = ExportRequest("leads", ("id", "email"), {"staticListId": 5}, "l", column_header_names={"id": "Id"})
    assert lead.base_path == "/bulk/v1/leads/export"
    assert lead.create_body() == {
        "format": "CSV",
        "filter": {"staticListId": 5},
        "fields": ["id", "email"],
        "columnHeaderNames": {"id": "Id"},
    }
    assert "fields" not in activities("2026-11-01", "2026-11-02").create_body()
    members = ExportRequest("program_members", ("leadId",), {"programId": 1}, "pm")
    assert members.base_path == "/bulk/v1/program/members/export"
    cars = ExportRequest("custom_object", ("vin",), {"updatedAt": {}}, "co", object_name="car_c")
    assert cars.base_path == "/bulk/v1/customobjects/car_c/export"
    with pytest.raises(ValueError):
        ExportRequest("custom_object", ("vin",), {}, "co")


@pytest.mark.parametrize("spelling", ["Cancelled", "Canceled", "cancelled", "CANCELED"])
def test_every_spelling_of_cancelled_parses(spelling: str) -> None:
    assert ExportStatus.parse(spelling) is ExportStatus.CANCELLED


def test_a_completed_job_answer_parses_with_its_checksum_unprefixed() -> None:
    job = ExportJob.from_result(
        {
            "exportId": "ce45a7a1",
            "status": "Completed",
            "createdAt": "2017-01-21T11:47:30-08:00",
            "finishedAt": "2017-01-21T12:59:30-08:00",
            "numberOfRecords": 122323,
            "fileSize": 123424,
            "fileChecksum": "sha256:C165",
        }
    )
    assert (job.status, job.number_of_records, job.file_size, job.file_checksum) == (
        ExportStatus.COMPLETED,
        122323,
        123424,
        "c165",
    )
    assert job.finished_at is not None and job.finished_at.hour == 20, "normalised to UTC"
    assert job.latest_instant() == job.finished_at


def test_unknown_statuses_are_a_protocol_error() -> None:
    with pytest.raises(MarketoProtocolError):
        ExportJob.from_result({"exportId": "x", "status": "Exploded"})
