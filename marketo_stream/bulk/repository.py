"""The only code that knows Bulk Extract's URLs: create, enqueue, status, cancel, list and the file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from marketo_stream.bulk.job import ExportJob, ExportStatus
from marketo_stream.bulk.request import ExportRequest
from marketo_stream.marketo.client import MarketoClient
from marketo_stream.marketo.envelope import Envelope
from marketo_stream.marketo.errors import MarketoProtocolError
from marketo_stream.marketo.paging import position_token_pages


def _one_job(envelope: Envelope) -> ExportJob:
    if not envelope.result:
        raise MarketoProtocolError("protocol", "bulk answer without a job", envelope.request_id)
    return ExportJob.from_result(envelope.result[0])


class ExportRepository:
    def __init__(self, client: MarketoClient) -> None:
        self.client = client

    def create(self, request: ExportRequest) -> ExportJob:
        return _one_job(self.client.post(f"{request.base_path}/create.json", json=request.create_body()))

    def enqueue(self, request: ExportRequest, export_id: str, *, wait_for_slot: bool = False) -> ExportJob:
        """Queue a Created job. A full queue raises ``ExportQueueFull`` at once unless ``wait_for_slot``.

        "Job already queued" counts as success: the job's current state is read back instead.
        """
        policy = self.client.config.retry
        retry = policy if wait_for_slot else replace(policy, slot_waits=0)
        envelope = self.client.post(f"{request.base_path}/{export_id}/enqueue.json", retry=retry)
        if envelope.absorbed is not None or not envelope.result:
            return self.status(request, export_id)
        return _one_job(envelope)

    def status(self, request: ExportRequest, export_id: str) -> ExportJob:
        return _one_job(self.client.get(f"{request.base_path}/{export_id}/status.json"))

    def cancel(self, request: ExportRequest, export_id: str) -> ExportJob:
        return _one_job(self.client.post(f"{request.base_path}/{export_id}/cancel.json"))

    def list_jobs(self, request: ExportRequest, statuses: tuple[ExportStatus, ...] = ()) -> list[ExportJob]:
        """Jobs of this request's family created in the last 7 days by our API user (Marketo shows no others)."""
        params = {"status": [s.value for s in statuses]} if statuses else None
        return [
            ExportJob.from_result(item)
            for page in position_token_pages(self.client, f"{request.base_path}.json", params)
            for item in page.rows
        ]

    def download(self, request: ExportRequest, export_id: str, dest: Path) -> int:
        return self.client.download(f"{request.base_path}/{export_id}/file.json", dest)
