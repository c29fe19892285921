"""Marketo's response envelope: HTTP 200 with ``success:false`` and string error codes, and the messages it uses."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

MESSAGES: dict[str, str] = {
    "601": "Access token invalid",
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request timed out",
    "605": "HTTP Method not supported",
    "606": "Max rate limit '{calls}' exceeded with in '{seconds}' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "609": "Invalid JSON",
    "610": "Requested resource not found",
    "611": "System error",
    "612": "Invalid Content Type",
    "614": "Invalid Subscription",
    "615": "Concurrent access limit '{limit}' reached",
    "701": "{field} cannot be blank",
    "702": "No data found for given search scenario",
    "704": "Invalid date format",
    "713": "Transient Error",
    "1003": "Invalid data",
    "1004": "Lead not found",
    "1013": "Object not found",
    "1029": "Too many jobs in queue",
    "1035": "Unsupported filter type for target subscription",
}

# Codes whose responses Marketo does not count against the rate limit or the daily quota.
UNCOUNTED_CODES = frozenset({"601", "602", "604", "605", "608", "611"})

NO_ASSETS = "No assets found for the given search criteria."

_sequence = itertools.count(1)


class ApiError(Exception):
    """Raised by a handler to answer with Marketo's error envelope."""

    def __init__(self, code: str | int, message: str | None = None) -> None:
        self.code = str(code)
        self.message = message if message is not None else MESSAGES.get(self.code, "Error")
        super().__init__(f"{self.code} {self.message}")


def request_id() -> str:
    """Opaque ``<hex>#<hex>`` like Marketo's; unique within the process."""
    return f"{secrets.token_hex(2)}{next(_sequence):x}#{int(time.time() * 1000):x}"


def success(result: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id(), "success": True}
    if result is not None:
        body["result"] = result
    body.update(extra)
    return body


def failure(code: str, message: str) -> dict[str, Any]:
    return {"requestId": request_id(), "success": False, "errors": [{"code": code, "message": message}]}


def asset_success(result: list[Any] | None, warnings: list[str] | None = None) -> dict[str, Any]:
    """Asset API shape: ``errors`` and ``warnings`` always present; no ``result`` key when nothing was found."""
    body: dict[str, Any] = {"success": True, "errors": [], "requestId": request_id(), "warnings": warnings or []}
    if result:
        body["result"] = result
    else:
        body["warnings"] = [NO_ASSETS]
    return body
