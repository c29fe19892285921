"""Fetching the next REST listings while the current one is published.

Per-id listings (a program's members, a batch of leads' roles, a list's leads) are independent calls, and
Marketo allows several at once. Waiting for each answer in turn leaves the sync idle for the network round
trip of every call; fetching a few ahead overlaps those waits with publishing, which stays on one thread
(the Kafka transaction and the state are not shared). Results come back in the order of the items, so what
is published, and when the state is committed, does not depend on the timing of answers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def fetch_ahead(
    items: Iterable[Item], fetch: Callable[[Item], Result], *, workers: int
) -> Iterator[tuple[Item, Result]]:
    """``(item, fetch(item))`` in the order of ``items``, with up to ``workers`` fetches running ahead.

    A fetch that raises raises here when its turn comes; fetches still running then, or when the consumer stops
    early, are cancelled or awaited and their results dropped. ``items`` is read lazily, so it may be endless: at
    most ``workers`` items are fetched beyond the last one consumed.
    """
    if workers <= 1:
        for item in items:
            yield item, fetch(item)
        return
    source = iter(items)
    pending: deque[tuple[Item, Future[Result]]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="marketo-fetch")
    try:
        for item in source:
            pending.append((item, pool.submit(fetch, item)))
            if len(pending) >= workers:
                break
        while pending:
            item, future = pending.popleft()
            for following in source:  # keep the pool busy while this one is awaited and published
                pending.append((following, pool.submit(fetch, following)))
                break
            yield item, future.result()
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def first_pages_ahead(
    items: Iterable[Item], open_pages: Callable[[Item], Iterator[Result]], *, workers: int
) -> Iterator[tuple[Item, Iterator[Result]]]:
    """Each item's pages: the first one fetched ahead as by :func:`fetch_ahead`, the rest as they are read.

    Only first pages run ahead, so memory stays at ``workers`` pages whatever a listing's size (a program can
    have millions of members); most per-id listings are a single page anyway.
    """

    def start(item: Item) -> tuple[list[Result], Iterator[Result]]:
        pages = open_pages(item)
        return list(islice(pages, 1)), pages

    for item, (first, rest) in fetch_ahead(items, start, workers=workers):
        yield item, chain(first, rest)
