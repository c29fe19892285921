"""An export job as Marketo reports it, and the statuses it moves through.

``Created → Queued → Processing → Completed | Failed``, and ``Cancelled`` from any of the first three.
Marketo spells the last one both "Canceled" and "Cancelled", and its swagger lowercases all of them;
every spelling parses to the same :class:`ExportStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from marketo_stream.intervals import parse_instant
from marketo_stream.marketo.errors import MarketoProtocolError


class ExportStatus(Enum):
    CREATED = "Created"
    QUEUED = "Queued"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @classmethod
    def parse(cls, text: str) -> ExportStatus:
        key = text.strip().lower()
        found = _STATUS_MAP.get(key)
        if found is None:
            raise MarketoProtocolError("protocol", f"unknown export status {text!r}")
        return found

    @property
    def holds_queue_slot(self) -> bool:
        """Queued and Processing jobs count against the instance's queue of 10."""
        return self in (ExportStatus.QUEUED, ExportStatus.PROCESSING)


_STATUS_MAP: dict[str, ExportStatus] = {
    "created": ExportStatus.CREATED,
    "queued": ExportStatus.QUEUED,
    "processing": ExportStatus.PROCESSING,
    "completed": ExportStatus.COMPLETED,
    "failed": ExportStatus.FAILED,
    "cancelled": ExportStatus.CANCELLED,
    "canceled": ExportStatus.CANCELLED,
}


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()) else None


@dataclass(frozen=True, slots=True)
class ExportJob:
    export_id: str
    status: ExportStatus
    created_at: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    number_of_records: int | None = None
    file_size: int | None = None
    file_checksum: str | None = None
    """Lowercase hex SHA-256 of the whole file (Marketo's ``sha256:`` prefix removed)."""
    error_msg: str | None = None

    @classmethod
    def from_result(cls, item: dict[str, Any]) -> ExportJob:
        export_id, status = item.get("exportId"), item.get("status")
        if not isinstance(export_id, str) or not isinstance(status, str):
            raise MarketoProtocolError("protocol", f"export job without exportId/status: {item!r}")
        raw_checksum = item.get("fileChecksum")
        checksum = raw_checksum.split(":", 1)[-1].strip().lower() if isinstance(raw_checksum, str) else ""
        return cls(
            export_id=export_id,
            status=ExportStatus.parse(status),
            created_at=_instant(item.get("createdAt")),
            queued_at=_instant(item.get("queuedAt")),
            started_at=_instant(item.get("startedAt")),
            finished_at=_instant(item.get("finishedAt")),
            number_of_records=_int(item.get("numberOfRecords")),
            file_size=_int(item.get("fileSize")),
            file_checksum=checksum or None,
            error_msg=str(item["errorMsg"]) if item.get("errorMsg") else None,
        )

    def latest_instant(self) -> datetime | None:
        """The newest server timestamp on the job: the server's clock as of this answer, roughly."""
        stamps = [t for t in (self.created_at, self.queued_at, self.started_at, self.finished_at) if t]
        return max(stamps) if stamps else None
