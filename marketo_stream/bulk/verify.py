"""A bulk file is handed on only when its bytes are the ones Marketo described.

The status answer of a completed job gives ``fileSize``, ``fileChecksum`` (SHA-256 of the exact bytes)
and ``numberOfRecords``. A resumed download can splice bytes that are not a prefix of the file (or a
disk can hold a stale partial file from an older attempt), so every file is checked before the reader sees it.
A mismatch discards the file and downloads it afresh; a second mismatch is an error.

The record count, which takes a CSV pass over the whole file, is checked only when there is no checksum: a file
whose SHA-256 matches holds exactly the bytes Marketo wrote, which another download would only repeat.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from marketo_stream.bulk.csvfile import count_records
from marketo_stream.bulk.errors import ExportVerificationError
from marketo_stream.bulk.job import ExportJob

log = logging.getLogger("marketo_stream.bulk")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def mismatch(path: Path, job: ExportJob) -> str | None:
    """Why ``path`` is not the file ``job`` describes, or None when it is."""
    size = path.stat().st_size
    if job.file_size is not None and size != job.file_size:
        return f"{size} bytes where Marketo reported {job.file_size}"
    if job.file_checksum is not None:
        actual = sha256_of(path)
        if actual != job.file_checksum:
            return f"SHA-256 {actual} where Marketo reported {job.file_checksum}"
    elif job.number_of_records is not None:
        records = count_records(path)
        if records != job.number_of_records:
            return f"{records} records where Marketo reported {job.number_of_records}"
    return None


def fetch_verified(
    download: Callable[[Path], int], job: ExportJob, part: Path, final: Path, *, label: str, attempts: int = 2
) -> Path:
    """Download into ``part`` (keeping what it holds), verify, and move it to ``final``.

    A ``final`` already on disk (verified before a restart) is re-checked and reused.
    """
    if final.exists():
        if mismatch(final, job) is None:
            return final
        final.unlink()
    problem = "not downloaded"
    for attempt in range(1, attempts + 1):
        download(part)
        problem = mismatch(part, job) or ""
        if not problem:
            part.replace(final)
            return final
        log.warning("export %s (job %s), download %d: %s; discarding it", label, job.export_id, attempt, problem)
        part.unlink(missing_ok=True)
    raise ExportVerificationError(label, job.export_id, problem)
