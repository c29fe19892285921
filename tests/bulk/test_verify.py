"""Files are handed on only when size, SHA-256 and record count match the job (pure: downloads are scripted)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from marketo_stream.bulk.errors import ExportVerificationError
from marketo_stream.bulk.job import ExportJob, ExportStatus
from marketo_stream.bulk.verify import fetch_verified, mismatch

GOOD = b'id,text\n1,"a\nb"\n2,c\n'


def job_for(data: bytes, records: int = 2) -> ExportJob:
    checksum = hashlib.sha256(data).hexdigest()
    return ExportJob(
        "e1", ExportStatus.COMPLETED, number_of_records=records, file_size=len(data), file_checksum=checksum
    )


def downloads(*bodies: bytes) -> tuple[list[int], Callable[[Path], int]]:
    """Each call appends the next body to what the part file holds, as a resumed download does."""
    sizes_before: list[int] = []
    queue = list(bodies)

    def download(dest: Path) -> int:
        sizes_before.append(dest.stat().st_size if dest.exists() else 0)
        with dest.open("ab") as out:
            out.write(queue.pop(0))
        return dest.stat().st_size

    return sizes_before, download


def test_a_verified_file_is_moved_into_place(tmp_path: Path) -> None:
    _, download = downloads(GOOD)
    final = fetch_verified(download, job_for(GOOD), tmp_path / "e1.part", tmp_path / "e1.csv", label="w")
    assert final.read_bytes() == GOOD and not (tmp_path / "e1.part").exists()


def test_a_checksum_mismatch_discards_the_file_and_downloads_afresh(tmp_path: Path) -> None:
    part = tmp_path / "e1.part"
    part.write_bytes(b"XXXXX")  # a stale prefix from an older attempt
    sizes_before, download = downloads(GOOD[5:], GOOD)
    final = fetch_verified(download, job_for(GOOD), part, tmp_path / "e1.csv", label="w")
    assert final.read_bytes() == GOOD
    assert sizes_before == [5, 0], "resumed first, then started over from nothing"


def test_a_second_mismatch_raises(tmp_path: Path) -> None:
    corrupt = GOOD.replace(b"c", b"d")
    _, download = downloads(corrupt, corrupt)
    with pytest.raises(ExportVerificationError) as raised:
        fetch_verified(download, job_for(GOOD), tmp_path / "e1.part", tmp_path / "e1.csv", label="w")
    assert "SHA-256" in raised.value.reason and raised.value.export_id == "e1"
    assert not (tmp_path / "e1.csv").exists() and not (tmp_path / "e1.part").exists()


def test_size_and_record_count_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(GOOD)
    assert mismatch(path, job_for(GOOD)) is None
    uncounted = ExportJob("e1", ExportStatus.COMPLETED, number_of_records=3, file_size=len(GOOD))
    assert "records" in (mismatch(path, uncounted) or "")
    assert mismatch(path, replace(uncounted, number_of_records=2)) is None, "a quoted line break is one record"
    bigger = ExportJob("e1", ExportStatus.COMPLETED, file_size=len(GOOD) + 1)
    assert "bytes" in (mismatch(path, bigger) or "")


def test_a_file_matching_its_checksum_is_not_counted_again(tmp_path: Path) -> None:
    """Its bytes are Marketo's own: a count that disagrees would come back the same from any download."""
    path = tmp_path / "f.csv"
    path.write_bytes(GOOD)
    assert mismatch(path, job_for(GOOD, records=3)) is None


def test_a_file_verified_before_a_restart_is_reused_without_downloading(tmp_path: Path) -> None:
    (tmp_path / "e1.csv").write_bytes(GOOD)
    sizes_before, download = downloads()
    fetch_verified(download, job_for(GOOD), tmp_path / "e1.part", tmp_path / "e1.csv", label="w")
    assert sizes_before == []
