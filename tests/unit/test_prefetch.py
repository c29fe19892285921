"""fetch_ahead: results in input order, bounded lookahead, errors at their turn, early stop cancels the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import count

import pytest

from marketo_stream.sync.prefetch import fetch_ahead, first_pages_ahead


def test_results_come_in_the_order_of_the_items_whatever_order_the_fetches_end_in() -> None:
    finished: list[int] = []
    last_done = threading.Event()

    def fetch(n: int) -> int:
        if n == 0:
            assert last_done.wait(timeout=5)  # the first item ends only after the third has
        finished.append(n)
        if n == 2:
            last_done.set()
        return n * 10

    assert list(fetch_ahead(range(4), fetch, workers=3)) == [(n, n * 10) for n in range(4)]
    assert finished.index(2) < finished.index(0)


def test_fetches_run_at_the_same_time_up_to_the_number_of_workers() -> None:
    barrier = threading.Barrier(3, timeout=5)

    def fetch(n: int) -> int:
        barrier.wait()  # breaks (raises) unless three fetches are in flight together
        return n

    assert [n for n, _ in fetch_ahead(range(3), fetch, workers=3)] == [0, 1, 2]


def test_an_endless_source_is_read_only_a_few_items_past_the_last_one_consumed() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fetch(n: int) -> int:
        with lock:
            started.append(n)
        return n

    results = fetch_ahead(count(), fetch, workers=4)
    taken = [next(results)[0] for _ in range(3)]
    results.close()
    assert taken == [0, 1, 2]
    assert max(started) <= 2 + 4


def test_a_failed_fetch_raises_when_its_turn_comes() -> None:
    def fetch(n: int) -> int:
        if n == 2:
            raise ValueError("no such program")
        return n

    seen = []
    with pytest.raises(ValueError, match="no such program"):
        for n, _ in fetch_ahead(range(5), fetch, workers=3):
            seen.append(n)
    assert seen == [0, 1]


def test_one_worker_fetches_in_turn_on_the_calling_thread() -> None:
    threads = []

    def fetch(n: int) -> int:
        threads.append(threading.current_thread())
        return n

    assert list(fetch_ahead(range(3), fetch, workers=1)) == [(0, 0), (1, 1), (2, 2)]
    assert set(threads) == {threading.current_thread()}


def test_only_first_pages_run_ahead_and_every_page_is_read() -> None:
    opened: list[str] = []

    def pages(name: str) -> Iterator[str]:
        for number in range(3):
            opened.append(f"{name}{number}")
            yield f"{name}{number}"

    listed = first_pages_ahead(["a", "b", "c"], pages, workers=2)
    item, first = next(listed)
    assert item == "a"
    assert "a1" not in opened  # later pages are read only as they are consumed
    assert list(first) == ["a0", "a1", "a2"]
    assert [(item, list(rest)) for item, rest in listed] == [("b", ["b0", "b1", "b2"]), ("c", ["c0", "c1", "c2"])]
