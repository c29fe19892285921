"""The sandbox's own paging tokens (never shared with the client): opaque base32 strings as Marketo's look.

Position tokens carry an offset into a listing; activity tokens carry a ``(commit time, marketoGUID)`` cursor and
a flag saying the empty page Marketo sometimes serves has already been served at this cursor.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marketo_stream.sandbox.envelope import ApiError, success
from marketo_stream.sandbox.http import Request, Response

T = TypeVar("T")


def _encode(text: str) -> str:
    return base64.b32encode(text.encode()).decode()


def _decode(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 8)
        return base64.b32decode(padded.upper()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("1003", "Invalid nextPageToken") from exc


def position_token(offset: int) -> str:
    return _encode(f"P{offset}")


def position(token: str | None) -> int:
    if not token:
        return 0
    text = _decode(token)
    if not text.startswith("P") or not text[1:].isdigit():
        raise ApiError("1003", "Invalid nextPageToken")
    return int(text[1:])


def page(items: Sequence[T], token: str | None, batch_size: int) -> tuple[list[T], dict[str, Any]]:
    """One page of a position-paged listing and the envelope keys that go with it (no token on the last page)."""
    start = position(token)
    chosen = list(items[start : start + batch_size])
    extra: dict[str, Any] = {"moreResult": start + batch_size < len(items)}
    if extra["moreResult"]:
        extra["nextPageToken"] = position_token(start + batch_size)
    return chosen, extra


def activity_token(commit: int, guid: int, empty_served: bool = False) -> str:
    return _encode(f"A{commit}.{guid}.{int(empty_served)}")


def activity_cursor(token: str | None) -> tuple[int, int, bool]:
    if not token:
        raise ApiError("1003", "nextPageToken is required")
    text = _decode(token)
    try:
        commit, guid, served = text[1:].split(".")
        if text[0] != "A":
            raise ValueError(text)
        return int(commit), int(guid), served == "1"
    except ValueError as exc:
        raise ApiError("1003", "Invalid nextPageToken") from exc


def batch_size(raw: int, limit: int = 300) -> int:
    if raw < 1 or raw > limit:
        raise ApiError("1003", f"batchSize must be between 1 and {limit}")
    return raw


def respond(request: Request, items: Sequence[Any], more_result: bool = True) -> Response:
    """A position-paged answer for ``batchSize``/``nextPageToken`` (some Marketo listings carry no ``moreResult``)."""
    return respond_rendered(request, items, lambda _, item: item, more_result)


def respond_rendered(
    request: Request, items: Sequence[T], render: Callable[[int, T], Any], more_result: bool = True
) -> Response:
    """``respond`` over ``render(position, item)`` of every item, rendering only the items of the page served."""
    size = batch_size(request.get_int("batchSize", 300))
    start = position(request.get("nextPageToken"))
    chosen, extra = page(items, request.get("nextPageToken"), size)
    if not more_result:
        extra.pop("moreResult")
    return Response.json(success([render(start + n, item) for n, item in enumerate(chosen)], **extra))
