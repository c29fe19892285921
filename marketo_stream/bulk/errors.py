"""What can go wrong with an export beyond what Marketo's codes say.

    MarketoStreamError
    └── BulkError
        ├── ExportFailed                 a job failed (or hung) again and again, and its window cannot be split
        ├── ExportVerificationError      the file's checksum or record count stayed wrong after a fresh download
        └── MalformedRowError            a CSV row that cannot be read, and no quarantine was given to take it

Marketo's own refusals (quota, queue full, unsupported filter, file gone) stay the typed errors of
:mod:`marketo_stream.marketo.errors`; the exporter handles or re-raises them.
"""

from __future__ import annotations

from pathlib import Path

from marketo_stream.errors import MarketoStreamError


class BulkError(MarketoStreamError):
    """An export job or its file could not be turned into verified rows."""


class _ExportProblem(BulkError):
    outcome = "went wrong"

    def __init__(self, label: str, export_id: str | None, reason: str) -> None:
        self.label = label
        self.export_id = export_id
        self.reason = reason
        super().__init__(f"export {label} (job {export_id}) {self.outcome}: {reason}")


class ExportFailed(_ExportProblem):
    outcome = "failed"


class ExportVerificationError(_ExportProblem):
    outcome = "did not verify"


class MalformedRowError(BulkError):
    def __init__(self, file: Path, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        super().__init__(f"{file}:{line}: {reason}")
