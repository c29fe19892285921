"""Marketo's JSON answer, parsed once into one shape for REST, asset and bulk endpoints alike.

The envelope is where HTTP 200 can still mean failure (``success: false``), where ``result`` may be
missing (empty activity pages, the asset API's "No assets found"), and where warnings come as strings
on one API and objects on another; everything above this module sees only :class:`Envelope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marketo_stream.jsontext import loads
from marketo_stream.marketo.errors import MarketoProtocolError

NO_ASSETS_WARNING = "No assets found for the given search criteria."


@dataclass(frozen=True, slots=True)
class ErrorItem:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Envelope:
    success: bool
    request_id: str | None = None
    result: list[dict[str, Any]] = field(default_factory=list)
    errors: tuple[ErrorItem, ...] = ()
    warnings: tuple[str, ...] = ()
    next_page_token: str | None = None
    more_result: bool | None = None
    has_result: bool = False
    """Whether the ``result`` key was present at all (asset paging ends on its absence)."""
    absorbed: ErrorItem | None = None
    """An error the code table treats as success (1029 "Job already queued")."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def first_error(self) -> ErrorItem | None:
        return self.errors[0] if self.errors else None

    @property
    def no_assets_found(self) -> bool:
        return not self.has_result and any(NO_ASSETS_WARNING.lower() in w.lower() for w in self.warnings)


def _warning_text(item: object) -> str:
    if isinstance(item, dict):
        code = item.get("code")
        message = str(item.get("message", ""))
        return f"{code}: {message}" if code is not None else message
    return str(item)


def parse_envelope(body: bytes | str) -> Envelope:
    """Parse a JSON answer; raise :class:`MarketoProtocolError` when it is not Marketo's envelope."""
    try:
        data = loads(body)
    except ValueError as exc:
        raise MarketoProtocolError("protocol", f"answer is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("success"), bool):
        raise MarketoProtocolError("protocol", "answer has no boolean 'success'")
    request_id = data.get("requestId")
    raw_result = data.get("result")
    result = [r for r in raw_result if isinstance(r, dict)] if isinstance(raw_result, list) else []
    errors = tuple(
        ErrorItem(code=str(e.get("code", "")), message=str(e.get("message", "")))
        for e in data.get("errors") or []
        if isinstance(e, dict)
    )
    token = data.get("nextPageToken")
    more = data.get("moreResult")
    return Envelope(
        success=data["success"],
        request_id=str(request_id) if request_id is not None else None,
        result=result,
        errors=errors,
        warnings=tuple(_warning_text(w) for w in data.get("warnings") or []),
        next_page_token=str(token) if token else None,
        more_result=more if isinstance(more, bool) else None,
        has_result="result" in data,
        raw=data,
    )
