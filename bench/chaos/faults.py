"""Every scripted Marketo fault the chaos suite runs, as data: one line per case.

A case is sandbox fault rules (``marketo_stream/sandbox/faults.py``; ``after`` lets the first matching calls
through so the fault lands mid-run) and the exit statuses the README's exit-status table documents for the run
that meets it: 0 where the sync survives, else the status of its kind of failure. The run after it, without
the fault, must end 0 with topics equal to the uninterrupted run's. A new sandbox rule is one more line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, QUOTA, REFUSED, UNAVAILABLE = 0, 3, 4, 7
"""Exit statuses of the README's table: done; a daily quota spent; Marketo refused; Marketo unreachable or
serving broken data after retries."""


@dataclass(frozen=True)
class Fault:
    name: str
    rules: tuple[dict[str, Any], ...]
    statuses: frozenset[int]
    """What the faulted run may end with."""


def fault(name: str, statuses: set[int], *rules: dict[str, Any]) -> Fault:
    return Fault(name, rules, frozenset(statuses))


REST = r"/rest/v1/"
ACTIVITY_CREATE = r"/bulk/v1/activities/export/create\.json"
FILE = r"/file\.json$"

# fmt: off
FAULTS: tuple[Fault, ...] = (
    fault("601 token invalid", {OK}, {"path": REST, "code": "601", "after": 3, "times": 1}),
    fault("602 token expired", {OK}, {"path": REST, "code": "602", "after": 8, "times": 1}),
    fault("602 again after a fresh token", {REFUSED}, {"path": REST, "code": "602", "after": 8, "times": 2}),
    fault("603 access denied (lists)", {REFUSED}, {"path": r"/rest/v1/lists\.json", "code": "603"}),
    fault("604 timed out", {OK}, {"path": REST, "code": "604", "after": 5, "times": 2}),
    fault("606 rate limit", {OK}, {"path": REST, "code": "606", "after": 2, "times": 3}),
    fault("607 daily quota", {QUOTA}, {"path": REST, "code": "607", "after": 10, "times": 1}),
    fault("608 unavailable", {OK}, {"path": REST, "code": "608", "after": 4, "times": 2}),
    fault("611 system error", {OK}, {"path": REST, "code": "611", "after": 6, "times": 1}),
    fault("615 concurrency", {OK}, {"path": r"/bulk/v1/", "code": "615", "after": 3, "times": 3}),
    fault("1029 export queue full", {OK}, {"path": ACTIVITY_CREATE, "code": "1029", "message": "Too many jobs in queue", "after": 1}),  # noqa: E501
    fault("1029 export quota", {QUOTA}, {"path": ACTIVITY_CREATE, "code": "1029", "message": "Export daily quota exceeded", "after": 0}),  # noqa: E501
    fault("HTTP 502 three times", {OK}, {"path": REST, "http_status": 502, "after": 3, "times": 3}),
    fault("HTTP 500 persisting", {UNAVAILABLE}, {"path": r"/rest/v1/lists\.json", "http_status": 500, "times": 0}),
    fault("HTTP 503 on identity", {OK}, {"path": r"/identity/", "http_status": 503, "times": 1}),
    fault("download cut once", {OK}, {"path": FILE, "drop_after_bytes": 3000, "after": 1, "times": 1}),
    fault("download cut every time", {UNAVAILABLE}, {"path": FILE, "drop_after_bytes": 3000, "after": 0, "times": 0}),
    fault("export job Failed", {OK}, {"path": r"leads/export/create", "job": "fail", "message": "Export failed: disk full"}),  # noqa: E501
    fault("export file gone", {OK}, {"path": r"activities/export/.*/status\.json$", "job": "file_gone", "after": 2}),
    fault("slow answers", {OK}, {"path": REST, "delay_seconds": 0.5, "after": 2, "times": 4}),
)
# fmt: on
