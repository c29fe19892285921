"""Fetching the next REST listings while the current one is published.

Per-id listings (a program's members, a batch of leads' roles, a list's leads) are independent calls, and
Marketo allows several at once. Waiting for each answer in turn leaves the sync idle for the network round
trip of every call; fetching a few ahead overlaps those waits with publishing, which stays on one thread
(the Kafka transaction and the state are not shared). Results come back in the order of the items, so what
is published, and when the state is committed, does not depend on the timing of answers.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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

    for item, (first, rest) in fetch_ahead(items, start, workers=workers):
        if not first:
            yield item, iter(())
            continue
        with ReadAhead(rest, depth) as later:
            yield item, chain(first, later)


_END = object()


class ReadAhead(Iterator[Result]):
    """``source``'s items in order, read on a thread of their own up to ``depth`` items ahead of the consumer.

    Used as a context manager: leaving it stops the thread (and drops what it read) whether or not the consumer
    read to the end. An exception raised by ``source`` is raised to the consumer in its place.
    """

    def __init__(self, source: Iterator[Result], depth: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(source,), name="marketo-read-ahead", daemon=True)
        self._done = False
        self._thread.start()

    def __next__(self) -> Result:
        if self._done:
            raise StopIteration
        got = self._queue.get()
        if got is _END:
            self._done = True
            raise StopIteration
        if isinstance(got, _Failure):
            self._done = True
            raise got.error
        return got  # type: ignore[return-value]

    def __enter__(self) -> ReadAhead[Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a put waiting for room
            with suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _read(self, source: Iterator[Result]) -> None:
        while not self._stop.is_set():  # checked before each page: a consumer gone asks for nothing more
            try:
                got = next(source, _END)
            except BaseException as exc:  # handed to the consumer, who decides
                got = _Failure(exc)
            if not self._offer(got) or got is _END or isinstance(got, _Failure):
                return

    def _offer(self, got: object) -> bool:
        while not self._stop.is_set():
            with suppress(queue.Full):
                self._queue.put(got, timeout=0.05)
                return True
        return False


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
