"""Marketo's three ways of paging, each with the guards that keep a run from looping forever.

- **Date tokens** (activities, lead changes, deleted leads): a token from ``activities/pagingtoken.json``;
  keep going while ``moreResult`` is true, even through empty pages (and pages without ``result``); the
  token of the last page is the cursor to resume from next time.
- **Position tokens** (leads by filter, lists, members, custom objects, export job lists...): the last
  page simply has no ``nextPageToken``.
- **Offsets** (asset API): ``offset``/``maxReturn``; the end is a short page, or no ``result`` and the
  "No assets found" warning.

Pages that bring nothing new (empty, or a token we have already been given) are counted; too many in a
row raise :class:`MarketoProtocolError` instead of spending the day's quota in a loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marketo_stream.marketo.client import MarketoClient, Params
from marketo_stream.marketo.envelope import Envelope
from marketo_stream.marketo.errors import MarketoProtocolError

MAX_BATCH = 300
"""Marketo's largest ``batchSize`` and its largest list of ids/filter values per call."""
MAX_ASSET_PAGE = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next_page_token: str | None
    """For date tokens, the token after the last page is where the next run resumes."""
    more_result: bool | None
    envelope: Envelope = field(repr=False)


class StallGuard:
    """Counts consecutive pages that bring nothing new; raises past ``limit``."""

    def __init__(self, path: str, limit: int) -> None:
        self._path = path
        self._limit = limit
        self._stalled = 0
        self._seen: set[str] = set()

    def observe(self, rows: Sequence[object], token: str | None) -> None:
        repeated = token is not None and token in self._seen
        if token is not None:
            self._seen.add(token)
        self._stalled = self._stalled + 1 if (not rows or repeated) else 0
        if self._stalled > self._limit:
            raise MarketoProtocolError(
                "paging", f"{self._path}: {self._stalled} pages in a row were empty or repeated a token"
            )


def _page(envelope: Envelope) -> Page:
    return Page(envelope.result, envelope.next_page_token, envelope.more_result, envelope)


def date_token_pages(
    client: MarketoClient, path: str, params: Params | None, *, since_token: str, max_stalled_pages: int = 50
) -> Iterator[Page]:
    """Pages of a date-token endpoint from ``since_token`` until ``moreResult`` is false."""
    guard = StallGuard(path, max_stalled_pages)
    token = since_token
    while True:
        envelope = client.get(path, {**(params or {}), "nextPageToken": token})
        page = _page(envelope)
        yield page
        if not envelope.more_result:
            return
        if not envelope.next_page_token:
            raise MarketoProtocolError("paging", f"{path}: moreResult without nextPageToken", envelope.request_id)
        guard.observe(page.rows, envelope.next_page_token)
        token = envelope.next_page_token


def paging_token(client: MarketoClient, since: str) -> str:
    """The date token for ``since`` (ISO-8601 with offset) from ``activities/pagingtoken.json``."""
    envelope = client.get("/rest/v1/activities/pagingtoken.json", {"sinceDatetime": since})
    if not envelope.next_page_token:
        raise MarketoProtocolError("paging", "pagingtoken.json answered without nextPageToken", envelope.request_id)
    return envelope.next_page_token


def position_token_pages(
    client: MarketoClient,
    path: str,
    params: Params | None = None,
    *,
    batch_size: int = MAX_BATCH,
    max_stalled_pages: int = 50,
) -> Iterator[Page]:
    """Pages of a position-token endpoint until a page comes without ``nextPageToken``."""
    guard = StallGuard(path, max_stalled_pages)
    token: str | None = None
    while True:
        query: dict[str, Any] = {**(params or {}), "batchSize": batch_size}
        if token:
            query["nextPageToken"] = token
        envelope = client.get(path, query)
        page = _page(envelope)
        yield page
        if not envelope.next_page_token or envelope.more_result is False:
            return
        guard.observe(page.rows, envelope.next_page_token)
        token = envelope.next_page_token


def offset_pages(
    client: MarketoClient, path: str, params: Params | None = None, *, max_return: int = MAX_ASSET_PAGE
) -> Iterator[Page]:
    """Asset API pages until a short page or the "No assets found" answer (which has no ``result``)."""
    if not 1 <= max_return <= MAX_ASSET_PAGE:
        raise ValueError(f"maxReturn must be within 1..{MAX_ASSET_PAGE}")
    offset = 0
    while True:
        envelope = client.get(path, {**(params or {}), "offset": offset, "maxReturn": max_return})
        if envelope.no_assets_found or not envelope.has_result:
            return
        yield _page(envelope)
        if len(envelope.result) < max_return:
            return
        offset += max_return


def batches(items: Iterable[T], size: int = MAX_BATCH) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (Marketo takes at most 300 ids per call)."""
    if size < 1:
        raise ValueError("batch size must be positive")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
