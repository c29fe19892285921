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
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import suppress
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
    items: Iterable[Item], open_pages: Callable[[Item], Iterator[Result]], *, workers: int, depth: int = 2
) -> Iterator[tuple[Item, Iterator[Result]]]:
    """Each item's pages: the first one fetched ahead as by :func:`fetch_ahead`; once the item's turn has come, the
    rest read ahead by :class:`ReadAhead`, ``depth`` pages at most.

    Memory stays at ``workers + depth`` pages whatever a listing's size (a program can have millions of members),
    and a listing of many pages does not wait for each one in turn.
    """

    def start(item: Item) -> tuple[list[Result], Iterator[Result]]:
        pages = open_pages(item)
        return list(islice(pages, 1)), pages

    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="marketo-read-ahead")
    try:
        for item, (first, rest) in fetch_ahead(items, start, workers=workers):
            if not first:
                yield item, iter(())
                continue
            with ReadAhead(rest, depth, reader) as later:
                yield item, chain(first, later)
    finally:
        reader.shutdown(wait=True, cancel_futures=True)


_END = object()


class ReadAhead(Iterator[Result]):
    """``source``'s items in order, each read by ``reader`` (an executor of one thread: a generator is advanced by
    one thread at a time) up to ``depth`` items ahead of the consumer.

    Used as a context manager: leaving it cancels what was not read yet, whether or not the consumer read to the
    end. An exception raised by ``source`` is raised to the consumer in its turn.
    """

    def __init__(self, source: Iterator[Result], depth: int, reader: Executor) -> None:
        self._source = source
        self._reader = reader
        self._pending: deque[Future[object]] = deque()
        for _ in range(max(1, depth)):
            self._pending.append(reader.submit(next, source, _END))

    def __next__(self) -> Result:
        if not self._pending:
            raise StopIteration
        got = self._pending.popleft().result()  # a failure of the source is raised here
        if got is _END:
            self.close()
            raise StopIteration
        self._pending.append(self._reader.submit(next, self._source, _END))
        return got  # type: ignore[return-value]

    def close(self) -> None:
        """Cancels the reads not started and waits for the one running (its page, or failure, is dropped)."""
        for future in self._pending:
            future.cancel()
        for future in self._pending:
            if not future.cancelled():
                with suppress(Exception):
                    future.result()
        self._pending.clear()

    def __enter__(self) -> ReadAhead[Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
