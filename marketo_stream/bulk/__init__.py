"""Bulk Extract jobs: create, enqueue, poll, download, verify, read. Knows nothing of Kafka.

Start with :class:`BulkExporter` (``run(requests, known_exports=, on_export_id=)`` → completed
exports) and :func:`read_rows` for the files it hands over.
"""

from marketo_stream.bulk.csvfile import QuarantinedRow, read_rows
from marketo_stream.bulk.exporter import BulkExporter, CompletedExport, ExporterConfig
from marketo_stream.bulk.request import ExportRequest

__all__ = ["BulkExporter", "CompletedExport", "ExportRequest", "ExporterConfig", "QuarantinedRow", "read_rows"]
